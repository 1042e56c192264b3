// A message no worker can process goes to the dead-letter queue after maxReceiveCount
// deliveries, and its task reads failed / worker_failure.
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { closeClients } from '../../lib/core/clients';
import { deadLetterQueueUrl, taskQueueUrl } from '../../lib/tasks/queues';
import { createTasks } from '../../lib/tasks/store';
import { parseFilterSteps } from '../../lib/filters/request';
import { stackClients } from '../helpers/shared-stack';
import { scenarioStack, terminal, waitForTask, fetchWorkersStatus } from '../helpers/workers';
import { sleep } from '../../lib/core/time';

const scenario = scenarioStack('poison', { HEARTBEAT_INTERVAL_S: '1', POLL_WAIT_S: '1', VISIBILITY_TIMEOUT_S: '1', MAX_RECEIVE_COUNT: '2' }, ['worker-3']);

test('a corrupt message is retried, dead-lettered, and its task marked worker_failure', async () => {
  const deps = stackClients(scenario.stack);
  const id = randomUUID();
  await createTasks(deps, [{ task_id: id, batch_id: id, image: 'sample_4k.jpg', steps: parseFilterSteps(['resize'], {}), queued_at: Date.now() }]);
  // A body whose task id is real but whose steps are garbage: no delivery can succeed.
  await deps.sqs.send(
    new SendMessageCommand({ QueueUrl: await taskQueueUrl(deps), MessageBody: JSON.stringify({ task_id: id, image: 'sample_4k.jpg', steps: 'garbage', queued_at: Date.now() }), MessageGroupId: id, MessageDeduplicationId: id }),
  );

  const t = await waitForTask(scenario.stack, id, terminal, 30_000);
  expect(t).toMatchObject({ status: 'failed', failure_type: 'worker_failure', failure_reason: 'max_deliveries_exceeded', attempts: 2 });
  expect(t.explanation).toMatch(/dead-letter queue/);
  expect(t.error).toMatch(/unreadable message/);

  // SQS moves it on the next receive after the last allowed one.
  const dlq = await deadLetterQueueUrl(deps);
  const inDlq = async () => {
    const a = await deps.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['ApproximateNumberOfMessages'] }));
    return Number(a.Attributes?.ApproximateNumberOfMessages ?? 0);
  };
  const deadline = Date.now() + 20_000;
  while ((await inDlq()) < 1 && Date.now() < deadline) await sleep(250);
  expect(await inDlq()).toBe(1);
  expect((await fetchWorkersStatus(scenario.stack)).queue.dead_letter).toBe(1);
  const peek = await deps.sqs.send(new ReceiveMessageCommand({ QueueUrl: dlq, VisibilityTimeout: 0 }));
  expect(JSON.parse(peek.Messages![0].Body!).task_id).toBe(id);
  expect((await fetchWorkersStatus(scenario.stack)).tasks.failed_by_type.worker_failure).toBe(1);
  await closeClients(deps);
}, 60_000);
