// A delivery taken and never started (a message a worker read ahead when it was killed) uses
// up one of MAX_RECEIVE_COUNT like any other. When the worker on the task's last delivery is
// killed too, the task has had fewer attempts than deliveries: the dead-letter sweeper sends
// it back once instead of failing it, and it completes. The crash soak's failure mode, made
// deterministic: the unstarted delivery is a plain SDK receive.
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { closeClients } from '../../lib/core/clients';
import { deadLetterQueueUrl, taskQueueUrl } from '../../lib/tasks/queues';
import { markSentAgain } from '../../lib/tasks/store';
import { waitFor } from '../../scripts/local/processes';
import { stackClients } from '../helpers/shared-stack';
import { scenarioStack, startWorker, submit, terminal, waitForTask } from '../helpers/workers';
import { sleep } from '../../lib/core/time';

const VISIBILITY_S = 2;
let deps: ReturnType<typeof stackClients> | undefined;
afterAll(() => deps && closeClients(deps));
const scenario = scenarioStack('unstarted-delivery', { HEARTBEAT_INTERVAL_S: '1', POLL_WAIT_S: '1', VISIBILITY_TIMEOUT_S: String(VISIBILITY_S), MAX_RECEIVE_COUNT: '2', SWEEP_INTERVAL_S: '1' });

test('a task whose only started delivery died with its worker is sent back once and completes', async () => {
  deps = stackClients(scenario.stack);
  const [id] = await submit(scenario.stack, { filters: ['sharpen', 'sharpen', 'sharpen', 'edges'] });
  const queueUrl = await taskQueueUrl(deps);

  // Delivery 1: taken and never started, as by a worker killed while holding it.
  const taken = await deps.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 5 }));
  expect(JSON.parse(taken.Messages![0].Body!).task_id).toBe(id);
  await sleep(VISIBILITY_S * 1000 + 200);

  // Delivery 2, the last allowed: a worker claims it and is killed mid-task.
  const first = await startWorker(scenario.stack, 'worker-3');
  scenario.workers.push(first);
  await waitForTask(scenario.stack, id, (t) => t.status === 'processing', 20_000);
  await first.stop('SIGKILL');

  // The next receive moves the message to the DLQ; a new worker's sweeper finds the task
  // processing by a dead worker after 1 attempt of 2 and sends it back.
  const second = await startWorker(scenario.stack, 'worker-3');
  scenario.workers.push(second);
  const done = await waitForTask(scenario.stack, id, terminal, 40_000);
  expect(done).toMatchObject({ status: 'completed', attempts: 2, worker_id: 'worker-3' });
  expect(done.attempt_history.map((a: { outcome?: string }) => a.outcome)).toEqual(['worker_lost', 'completed']);
  expect(done.sent_again_at).toEqual(expect.any(String));
  expect(second.output()).toMatch(new RegExp(`sweeper sent back 1 dead-lettered task\\(s\\) whose deliveries had not all started: ${id}`));

  // Nothing left in the dead-letter queue, and the one result is there.
  const dlq = await deadLetterQueueUrl(deps);
  const depth = async () => {
    const a = await deps!.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    return Number(a.Attributes!.ApproximateNumberOfMessages) + Number(a.Attributes!.ApproximateNumberOfMessagesNotVisible);
  };
  await waitFor('an empty DLQ', 10_000, async () => ((await depth()) === 0 ? true : undefined), 250);
  expect(done.result.key).toBe(`processed/${id}/sample_4k.jpg`);

  // Only once: the task is no longer processing on attempt 2 and was sent back already.
  expect(await markSentAgain(deps, id, 2, 'again')).toBe(false);
}, 120_000);
