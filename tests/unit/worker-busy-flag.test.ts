// A worker is marked busy by the claim itself (one Redis round trip), and stores one task's
// result while it processes the next, so the end of the older task must not mark the worker
// idle: the busy flag is cleared only by the task it names. Against real Redis.
import type { Clients } from '../../lib/core/clients';
import { claimTask } from '../../lib/tasks/store';
import { busyFlag, clearBusy, listWorkers, registerWorker, resolveIdentity } from '../../lib/worker/registry';
import { newTask as newTaskIn, withRedisPrefix } from '../helpers/redis-prefix';

let deps: Clients;
const worker = resolveIdentity('worker-3', undefined);
withRedisPrefix(async (d) => {
  deps = d;
  await registerWorker(deps, worker);
});

const view = async () => (await listWorkers(deps)).find((w) => w.id === worker.id)!;

const newTask = () => newTaskIn(deps);

test('the older task finishing leaves the worker busy with the newer one; the newer one finishing makes it idle', async () => {
  const [a, b] = [await newTask(), await newTask()];
  expect((await claimTask(deps, a, worker.id, busyFlag(deps, worker.id))).state).toBe('claimed');
  expect(await view()).toMatchObject({ status: 'busy', current_task: a });
  // b starts while a's result is still being stored.
  expect((await claimTask(deps, b, worker.id, busyFlag(deps, worker.id))).state).toBe('claimed');
  await clearBusy(deps, worker.id, a);
  expect(await view()).toMatchObject({ status: 'busy', current_task: b });
  await clearBusy(deps, worker.id, b);
  expect(await view()).toMatchObject({ status: 'idle', current_task: null });
});

test('a claim that is refused (the task already finished) leaves the worker as it was', async () => {
  const taskId = await newTask();
  await deps.redis.hset(deps.key('task', taskId), 'status', 'completed');
  expect((await claimTask(deps, taskId, worker.id, busyFlag(deps, worker.id))).state).toBe('completed');
  expect(await view()).toMatchObject({ status: 'idle', current_task: null });
});

test('a claim does not create a record for a worker that has none', async () => {
  const key = busyFlag(deps, 'unregistered-worker');
  expect((await claimTask(deps, await newTask(), 'unregistered-worker', key)).state).toBe('claimed');
  expect(await deps.redis.exists(key)).toBe(0);
});

test('clearing a worker whose record is gone does not recreate a partial record', async () => {
  const key = deps.key('worker', 'gone-worker');
  await clearBusy(deps, 'gone-worker', 'task-a');
  expect(await deps.redis.exists(key)).toBe(0);
});
