// Redrive re-validates: a dead letter whose contents break the API's rules is not sent back
// to the workers (it would only fail again); it stays in the DLQ and its task stays failed.
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { closeClients } from '../../lib/core/clients';
import { parseFilterSteps } from '../../lib/filters/request';
import { deadLetterQueueUrl, queueDepth, taskQueueUrl } from '../../lib/tasks/queues';
import { claimTask, createTasks, finishAttempt, getTask, type TaskMessage } from '../../lib/tasks/store';
import { postJson } from '../helpers/batch';
import { stackClients } from '../helpers/shared-stack';
import { scenarioStack } from '../helpers/workers';

const scenario = scenarioStack('redrive-validation', {});

test('an invalid dead letter is skipped with the reason; a valid one is redriven', async () => {
  const deps = stackClients(scenario.stack);
  const dlq = await deadLetterQueueUrl(deps);
  const msg = (image: string): TaskMessage => {
    const id = randomUUID();
    return { task_id: id, batch_id: id, image, steps: parseFilterSteps(['blur'], {}), queued_at: Date.now() };
  };
  const invalid = msg('../x.jpg');
  const valid = msg('sample_4k.jpg');
  await createTasks(deps, [invalid, valid]);
  for (const m of [invalid, valid]) {
    // Each task failed on its one delivery and its message sits in the DLQ.
    const { attempt } = await claimTask(deps, m.task_id, 'worker-3');
    await finishAttempt(deps, m.task_id, attempt, 'dead_lettered', { status: 'failed', failure_type: 'worker_failure', failure_reason: 'max_deliveries_exceeded', finished_at: new Date().toISOString() });
    await deps.sqs.send(new SendMessageCommand({ QueueUrl: dlq, MessageBody: JSON.stringify(m), MessageGroupId: m.task_id, MessageDeduplicationId: m.task_id }));
  }

  const res = await postJson(`${scenario.stack.url}/api/dlq/redrive/`, { max: 10 });
  expect(res.status).toBe(200);
  expect(res.body.redriven).toBe(1);
  expect(res.body.task_ids).toEqual([valid.task_id]);
  expect(res.body.skipped).toHaveLength(1);
  expect(res.body.skipped[0].reason).toMatch(/^invalid message \(image must be an image file name.*"\.\.\/x\.jpg"\): left in the dead-letter queue$/);

  expect((await getTask(deps, invalid.task_id))?.status).toBe('failed');
  expect((await getTask(deps, valid.task_id))?.status).toBe('pending');
  expect((await queueDepth(deps, await taskQueueUrl(deps))).visible).toBe(1);
  const left = await queueDepth(deps, dlq);
  expect(left.visible + left.in_flight).toBe(1);
  await closeClients(deps);
}, 60_000);
