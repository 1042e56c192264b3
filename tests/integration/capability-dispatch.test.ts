// DISPATCH_MODE=capability: tasks only reach workers that can run them; nothing is lost.
import { startStack, type RunningStack } from '../helpers/stack';
import { startWorker, submit, taskStatus, terminal, waitForTask, workersStatus, type WorkerProcess } from '../helpers/workers';

let stack: RunningStack;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  stack = await startStack({ DISPATCH_MODE: 'capability', HEARTBEAT_INTERVAL_S: '1', POLL_WAIT_S: '1' }, 'capability-dispatch');
  workers.push(...(await Promise.all(['worker-1', 'worker-2'].map((id) => startWorker(stack, id)))));
}, 120_000);
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  await stack?.stop();
});

test("the seed's specialisation scenario: with worker-3 stopped all five sharpen tasks complete on worker-2", async () => {
  const ids = (await Promise.all(Array.from({ length: 5 }, () => submit(stack, { filters: ['sharpen'] })))).flat();
  const results = await Promise.all(ids.map((id) => waitForTask(stack, id, terminal, 60_000)));
  for (const t of results) expect(t).toMatchObject({ status: 'completed', worker_id: 'worker-2', route: 'cpu', attempts: 1 });
  const status = await workersStatus(stack);
  expect(status.dispatch).toBe('capability');
  expect(status.tasks).toMatchObject({ completed: 5, failed: 0 });
  expect(status.workers.find((w: { id: string }) => w.id === 'worker-1').failed).toBe(0);
}, 90_000);

test('a task no live worker can run waits, says why, and completes when such a worker starts', async () => {
  const [mixed] = await submit(stack, { filters: ['resize', 'sharpen'] });
  const [io] = await submit(stack, { filters: ['blur'] });
  expect((await waitForTask(stack, io, terminal)).worker_id).toBe('worker-1');
  await new Promise((r) => setTimeout(r, 1500));
  const waiting = await taskStatus(stack, mixed);
  expect(waiting).toMatchObject({ status: 'pending', route: 'all', attempts: 0 });
  expect(waiting.explanation).toBe('Waiting for a worker with capabilities [resize, sharpen]');
  const routes = (await workersStatus(stack)).queue.routes;
  expect(routes.map((r: { route: string }) => r.route)).toEqual(['io', 'cpu', 'all']);
  expect(routes.find((r: { route: string }) => r.route === 'all').visible).toBe(1);

  workers.push(await startWorker(stack, 'worker-3'));
  const done = await waitForTask(stack, mixed, terminal, 30_000);
  expect(done).toMatchObject({ status: 'completed', worker_id: 'worker-3', attempts: 1 });
}, 90_000);
