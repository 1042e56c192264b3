// DISPATCH_MODE=capability: tasks only reach workers that can run them; nothing is lost.
import { scenarioStack, startWorker, submit, fetchTaskStatus, terminal, waitForTask, fetchWorkersStatus } from '../helpers/workers';
import { sleep } from '../../lib/core/time';

const scenario = scenarioStack('capability-dispatch', { DISPATCH_MODE: 'capability', HEARTBEAT_INTERVAL_S: '1', POLL_WAIT_S: '1' }, ['worker-1', 'worker-2']);
const workers = scenario.workers;

test("the seed's specialisation scenario: with worker-3 stopped all five sharpen tasks complete on worker-2", async () => {
  const ids = (await Promise.all(Array.from({ length: 5 }, () => submit(scenario.stack, { filters: ['sharpen'] })))).flat();
  const results = await Promise.all(ids.map((id) => waitForTask(scenario.stack, id, terminal, 60_000)));
  for (const t of results) expect(t).toMatchObject({ status: 'completed', worker_id: 'worker-2', route: 'cpu', attempts: 1 });
  const status = await fetchWorkersStatus(scenario.stack);
  expect(status.dispatch).toBe('capability');
  expect(status.tasks).toMatchObject({ completed: 5, failed: 0 });
  expect(status.workers.find((w: { id: string }) => w.id === 'worker-1').failed).toBe(0);
}, 90_000);

test('a task no live worker can run waits, says why, and completes when such a worker starts', async () => {
  const [mixed] = await submit(scenario.stack, { filters: ['resize', 'sharpen'] });
  const [io] = await submit(scenario.stack, { filters: ['blur'] });
  expect((await waitForTask(scenario.stack, io, terminal)).worker_id).toBe('worker-1');
  await sleep(1500);
  const waiting = await fetchTaskStatus(scenario.stack, mixed);
  expect(waiting).toMatchObject({ status: 'pending', route: 'all', attempts: 0 });
  expect(waiting.explanation).toBe('Waiting for a worker with capabilities [resize, sharpen]');
  const routes = (await fetchWorkersStatus(scenario.stack)).queue.routes;
  expect(routes.map((r: { route: string }) => r.route)).toEqual(['io', 'cpu', 'all']);
  expect(routes.find((r: { route: string }) => r.route === 'all').visible).toBe(1);

  workers.push(await startWorker(scenario.stack, 'worker-3'));
  const done = await waitForTask(scenario.stack, mixed, terminal, 30_000);
  expect(done).toMatchObject({ status: 'completed', worker_id: 'worker-3', attempts: 1 });
}, 90_000);
