// A worker re-validates what it takes: a message whose image name, filters or parameters
// break the API's rules, or whose image is over MAX_INPUT_BYTES, fails its task at once as
// a job failure with the reason — on attempt 1, acknowledged, never retried into the DLQ.
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { closeClients } from '../../lib/core/clients';
import { deadLetterQueueUrl, queueDepth, taskQueueUrl } from '../../lib/tasks/queues';
import { createTasks, type TaskMessage } from '../../lib/tasks/store';
import { waitFor } from '../../scripts/local/processes';
import { stackClients } from '../helpers/shared-stack';
import { scenarioStack, submit, terminal, waitForTask } from '../helpers/workers';

// sample_4k.jpg (1,161,643 bytes) is over this cap; misurina-sunset.jpg (1,109,778) is under it.
const scenario = scenarioStack('invalid-message', { HEARTBEAT_INTERVAL_S: '1', POLL_WAIT_S: '1', MAX_INPUT_BYTES: '1130000' }, ['worker-3']);

const CASES: { name: string; image: string; steps: TaskMessage['steps']; error: RegExp }[] = [
  { name: 'path traversal in the image name', image: '../x.jpg', steps: [{ name: 'resize', params: { width: 800, height: 600, fit: 'cover' } }], error: /^image must be an image file name.*got "\.\.\/x\.jpg"/ },
  { name: 'unknown filter', image: 'misurina-sunset.jpg', steps: [{ name: 'posterize', params: {} }], error: /^filters\[0\]: unknown filter "posterize"; valid filters: resize, blur/ },
  { name: 'parameter out of range', image: 'misurina-sunset.jpg', steps: [{ name: 'brightness', params: { factor: -5 } }], error: /^filter_params\.brightness\.factor must be .* from 0 to 10/ },
];

test('invalid messages fail their task on attempt 1 with the validation message; nothing is retried or dead-lettered', async () => {
  const deps = stackClients(scenario.stack);
  const queue = await taskQueueUrl(deps);
  const ids = CASES.map(() => randomUUID());
  const messages = CASES.map((c, i): TaskMessage => ({ task_id: ids[i], batch_id: ids[i], image: c.image, steps: c.steps, queued_at: Date.now() }));
  await createTasks(deps, messages);
  for (const m of messages) {
    await deps.sqs.send(new SendMessageCommand({ QueueUrl: queue, MessageBody: JSON.stringify(m), MessageGroupId: m.task_id, MessageDeduplicationId: m.task_id }));
  }
  // A valid message next to them still completes: the worker rejects only what is invalid.
  const [valid] = await submit(scenario.stack, { filters: ['brightness'], images: ['misurina-sunset.jpg'] });

  for (const [i, c] of CASES.entries()) {
    const t = await waitForTask(scenario.stack, ids[i], terminal, 30_000);
    expect({ case: c.name, status: t.status, failure_type: t.failure_type, failure_reason: t.failure_reason, attempts: t.attempts }).toEqual({
      case: c.name,
      status: 'failed',
      failure_type: 'job_failure',
      failure_reason: 'invalid_message',
      attempts: 1,
    });
    expect(t.error).toMatch(c.error);
    expect(t.explanation).toMatch(/same validation as the API/);
  }
  expect((await waitForTask(scenario.stack, valid, terminal)).status).toBe('completed');

  // Acknowledged, not left for redelivery: the queue drains and the DLQ stays empty.
  await waitFor('queue drained', 15_000, async () => {
    const q = await queueDepth(deps, queue);
    return q.visible === 0 && q.in_flight === 0 ? true : undefined;
  });
  expect(await queueDepth(deps, await deadLetterQueueUrl(deps))).toEqual({ visible: 0, in_flight: 0 });
  for (const id of ids) expect((await waitForTask(scenario.stack, id, terminal)).attempts).toBe(1);
  await closeClients(deps);
}, 90_000);

test('an image over MAX_INPUT_BYTES is refused before download, as a job failure on attempt 1', async () => {
  const [id] = await submit(scenario.stack, { filters: ['resize'], images: ['sample_4k.jpg'] });
  const t = await waitForTask(scenario.stack, id, terminal, 30_000);
  expect(t).toMatchObject({ status: 'failed', failure_type: 'job_failure', failure_reason: 'image_rejected', attempts: 1, result: null });
  expect(t.error).toBe('image sample_4k.jpg is 1161643 bytes; the limit is 1130000');
  const deps = stackClients(scenario.stack);
  expect(await queueDepth(deps, await deadLetterQueueUrl(deps))).toEqual({ visible: 0, in_flight: 0 });
  await closeClients(deps);
}, 60_000);
