// SQS is at-least-once: a second delivery of a finished task must not process it again.
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { HeadObjectCommand as HeadS3 } from '@aws-sdk/client-s3';
import { closeClients } from '../../lib/core/clients';
import { taskQueueUrl } from '../../lib/tasks/queues';
import { stackClients } from '../helpers/shared-stack';
import { scenarioStack, submit, fetchTaskStatus, terminal, waitForTask, fetchWorkersStatus } from '../helpers/workers';
import { waitFor } from '../../scripts/local/processes';

const scenario = scenarioStack('duplicate', { HEARTBEAT_INTERVAL_S: '1', POLL_WAIT_S: '1' }, ['worker-3']);

test('redelivering a completed task is acknowledged without processing it again', async () => {
  const deps = stackClients(scenario.stack);
  const [id] = await submit(scenario.stack, { filters: ['blur'] });
  const done = await waitForTask(scenario.stack, id, terminal);
  expect(done.status).toBe('completed');
  const firstWrite = await deps.s3.send(new HeadS3({ Bucket: deps.config.aws.bucket, Key: done.result.key }));
  const processedBefore = (await fetchWorkersStatus(scenario.stack)).workers[0].processed;

  // The same task body again, as a duplicate delivery would bring it.
  const body = JSON.stringify({ task_id: id, batch_id: done.batch_id, image: done.image, steps: [{ name: 'blur', params: { radius: 3 } }], queued_at: Date.now() });
  await deps.sqs.send(new SendMessageCommand({ QueueUrl: await taskQueueUrl(deps), MessageBody: body, MessageGroupId: id, MessageDeduplicationId: `${id}-again` }));
  await waitFor('duplicate consumed', 15_000, async () => (/delivery of a finished or unknown task ignored/.test(scenario.workers[0].output()) ? true : undefined), 100);
  await waitFor('queue drained', 10_000, async () => {
    const q = (await fetchWorkersStatus(scenario.stack)).queue;
    return q.visible === 0 && q.in_flight === 0 ? true : undefined;
  });

  const after = await fetchTaskStatus(scenario.stack, id);
  expect(after.attempts).toBe(1);
  expect(after.finished_at).toBe(done.finished_at);
  expect((await fetchWorkersStatus(scenario.stack)).workers[0].processed).toBe(processedBefore);
  expect((await fetchWorkersStatus(scenario.stack)).tasks.completed).toBe(1);
  const secondLook = await deps.s3.send(new HeadS3({ Bucket: deps.config.aws.bucket, Key: done.result.key }));
  expect(secondLook.ETag).toBe(firstWrite.ETag);
  expect(secondLook.LastModified?.getTime()).toBe(firstWrite.LastModified?.getTime());
  await closeClients(deps);
}, 60_000);
