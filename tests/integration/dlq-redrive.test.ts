// A task whose worker died on its last allowed delivery lands in the DLQ; it can be
// listed and redriven, and then completes.
import { getJson } from '../helpers/shared-stack';
import { postJson } from '../helpers/batch';
import { startStack, type RunningStack } from '../helpers/stack';
import { startWorker, submit, taskStatus, terminal, waitForTask, workersStatus, type WorkerProcess } from '../helpers/workers';
import { waitFor } from '../../scripts/local/processes';

let stack: RunningStack;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  stack = await startStack({ HEARTBEAT_INTERVAL_S: '1', POLL_WAIT_S: '1', VISIBILITY_TIMEOUT_S: '2', MAX_RECEIVE_COUNT: '1' }, 'dlq-redrive');
  workers.push(await startWorker(stack, 'worker-3'));
}, 120_000);
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  await stack?.stop();
});

test('dead-lettered by a crash, listed, redriven, completed', async () => {
  const [id] = await submit(stack, { filters: ['sharpen', 'sharpen', 'sharpen', 'edges'] });
  await waitForTask(stack, id, (t) => t.status === 'processing', 20_000);
  await workers[0].stop('SIGKILL');
  workers.push(await startWorker(stack, 'worker-3'));

  // Its one delivery is used up: SQS dead-letters it, and the status says so.
  const dead = await waitFor('dead letter', 30_000, async () => {
    const q = (await workersStatus(stack)).queue;
    return q.dead_letter >= 1 ? q : undefined;
  }, 250);
  expect(dead.dead_letter).toBe(1);
  const failed = await waitForTask(stack, id, terminal, 20_000);
  expect(failed).toMatchObject({ status: 'failed', failure_type: 'worker_failure', failure_reason: 'worker_lost' });

  const listed = await getJson(`${stack.url}/api/dlq/`);
  expect(listed.status).toBe(200);
  expect(listed.body.count).toBe(1);
  expect(listed.body.messages[0]).toMatchObject({ task_id: id, image: 'sample_4k.jpg', filters: ['sharpen', 'sharpen', 'sharpen', 'edges'], task_status: 'failed', readable: true });
  expect((await getJson(`${stack.url}/api/dlq/?max=500`)).status).toBe(400);

  await new Promise((r) => setTimeout(r, 1500)); // the listing's 1 s visibility
  const redrive = await postJson(`${stack.url}/api/dlq/redrive/`, {});
  expect(redrive.status).toBe(200);
  expect(redrive.body).toMatchObject({ redriven: 1, task_ids: [id] });

  const done = await waitForTask(stack, id, terminal, 30_000);
  expect(done).toMatchObject({ status: 'completed', worker_id: 'worker-3', attempts: 2 });
  const status = await workersStatus(stack);
  expect(status.queue.dead_letter).toBe(0);
  // The failure was undone, so the task counts once.
  expect(status.tasks).toMatchObject({ completed: 1, failed: 0, failed_by_type: { worker_failure: 0 } });
  expect((await taskStatus(stack, id)).failure_type).toBeUndefined();
}, 120_000);
