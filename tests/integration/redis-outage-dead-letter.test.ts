// Redis unavailable while a worker claims or finishes a task, at the product's defaults
// (MAX_RECEIVE_COUNT 3, VISIBILITY_TIMEOUT_S 60): deliveries are retried after a short
// backoff, not the visibility timeout, and a task whose message was dead-lettered during the
// outage is settled failed / worker_failure by the sweeper once Redis is back — no task is
// left pending. A private redis-server (persistent, like a production one) is killed and restarted.
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { closeClients, type Clients } from '../../lib/core/clients';
import { parseFilterSteps } from '../../lib/filters/request';
import { deadLetterQueueUrl, queueDepth, taskQueueUrl } from '../../lib/tasks/queues';
import { createTasks } from '../../lib/tasks/store';
import { waitFor } from '../../scripts/local/processes';
import { privateRedis, type PrivateRedis } from '../helpers/redis-server';
import { stackClients } from '../helpers/shared-stack';
import { startStack, type RunningStack } from '../helpers/stack';
import { startWorker, submit, terminal, waitForTask, type WorkerProcess } from '../helpers/workers';

let redis: PrivateRedis;
let stack: RunningStack;
let worker: WorkerProcess;
let deps: Clients;

beforeAll(async () => {
  redis = await privateRedis('redis-outage-dlq');
  await redis.start();
  // Only the test's own pace is set; delivery limits and timeouts are the product's defaults.
  stack = await startStack({ REDIS_URL: redis.url, REDIS_AUTOSTART: '0', DEPENDENCY_TIMEOUT_MS: '1000', HEARTBEAT_INTERVAL_S: '1', POLL_WAIT_S: '1' }, 'redis-outage-dlq');
  expect(stack.env.MAX_RECEIVE_COUNT).toBeUndefined();
  expect(stack.env.VISIBILITY_TIMEOUT_S).toBeUndefined();
  worker = await startWorker(stack, 'worker-3');
  deps = stackClients(stack);
}, 120_000);
afterAll(async () => {
  await worker?.stop('SIGKILL');
  await stack?.stop();
  if (deps) await closeClients(deps);
  await redis?.remove();
});

const deadLetters = async () => {
  const d = await queueDepth(deps, await deadLetterQueueUrl(deps));
  return d.visible + d.in_flight;
};

test('every delivery meets the outage: dead-lettered within backoffs, then settled failed by the sweeper', async () => {
  expect(deps.config.aws).toMatchObject({ maxReceiveCount: 3, visibilityTimeoutS: 60 });
  const id = randomUUID();
  const msg = { task_id: id, batch_id: id, image: 'sample_4k.jpg', steps: parseFilterSteps(['blur'], {}), queued_at: Date.now() };
  await createTasks(deps, [msg]);
  await redis.kill();
  await deps.sqs.send(new SendMessageCommand({ QueueUrl: await taskQueueUrl(deps), MessageBody: JSON.stringify(msg), MessageGroupId: id, MessageDeduplicationId: id }));

  // Three deliveries and the move to the DLQ, all inside one 60 s visibility timeout: each
  // retry came after the backoff (1, 2, 4 s with jitter), not after the visibility timeout.
  await waitFor('dead-lettered during the outage', 45_000, async () => ((await deadLetters()) === 1 ? true : undefined), 250);
  expect(worker.output()).toMatch(/task not claimed; left for redelivery/);

  await redis.start();
  const t = await waitForTask(stack, id, terminal, 30_000);
  expect(t).toMatchObject({ status: 'failed', failure_type: 'worker_failure', failure_reason: 'max_deliveries_exceeded', attempts: 0 });
  expect(t.explanation).toMatch(/\(3 allowed\); its message is in the dead-letter queue/);
  expect(t.error).toMatch(/Redis unreachable/);
  // The worker prints its sweep's report after the sweep has also handed the dead letter
  // back and saved the DLQ depth, so the task can read failed a moment before the line appears.
  await waitFor('the sweeper reports the task', 10_000, async () => (worker.output().includes(`sweeper settled 1 dead-lettered task(s): ${id}`) ? true : undefined), 100);
  // The sweeper only looks: the message stays listed for an operator (and a redrive).
  expect(await deadLetters()).toBe(1);
}, 120_000);

test('the outage hits while a task is being finished: retried after a backoff, completed once Redis is back', async () => {
  // Several full-size OpenCV passes: long enough to kill Redis mid-task.
  const [id] = await submit(stack, { filters: ['sharpen', 'sharpen', 'sharpen', 'edges'] });
  await waitForTask(stack, id, (t) => t.status === 'processing', 20_000);
  await redis.kill();
  await waitFor('the ending could not be recorded', 30_000, async () => (/task outcome not recorded; message left for redelivery/.test(worker.output()) ? true : undefined), 100);
  await redis.start();

  // Well inside the 60 s visibility timeout: the redelivery came after the backoff.
  const done = await waitForTask(stack, id, terminal, 40_000);
  expect(done.status).toBe('completed');
  expect(done.attempt_history.at(-1).outcome).toBe('completed');
  if (done.attempts === 1) {
    // The finish that timed out was still queued in the Redis client and ran once Redis came
    // back, so attempt 1 is recorded completed; the message was still redelivered after the
    // backoff, and that delivery was recognised as a duplicate and acknowledged.
    await waitFor('the redelivery acknowledged as a duplicate', 20_000, async () => (/delivery of a finished or unknown task ignored/.test(worker.output()) ? true : undefined), 100);
  } else {
    expect(done.attempts).toBeGreaterThanOrEqual(2);
  }
  expect(done.result.key).toBe(`processed/${id}/sample_4k.jpg`);
}, 120_000);
