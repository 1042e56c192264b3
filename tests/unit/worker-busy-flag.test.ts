// A worker is marked busy by the claim itself (one Redis round trip), and stores one task's
// result while it processes the next, so the end of the older task must not mark the worker
// idle: the finish clears the busy flag only if it names the task it finishes. Against real Redis.
import type { Clients } from '../../lib/core/clients';
import { claimTask, finishAttempt } from '../../lib/tasks/store';
import { busyFlag, listWorkers, registerWorker, resolveIdentity } from '../../lib/worker/registry';
import { newTask as newTaskIn, withRedisPrefix } from '../helpers/redis-prefix';

let deps: Clients;
const worker = resolveIdentity('worker-3', undefined);
withRedisPrefix(async (d) => {
  deps = d;
  await registerWorker(deps, worker);
});

const view = async () => (await listWorkers(deps)).find((w) => w.id === worker.id)!;

const newTask = () => newTaskIn(deps);
/** The end of a task's attempt as a worker records it: the outcome, and idle again if still on that task. */
const finish = (id: string, taskId: string, attempt = 1) => finishAttempt(deps, taskId, attempt, 'completed', { status: 'completed' }, undefined, { idle: { key: busyFlag(deps, id), taskId } });

test('the older task finishing leaves the worker busy with the newer one; the newer one finishing makes it idle', async () => {
  const [a, b] = [await newTask(), await newTask()];
  expect((await claimTask(deps, a, worker.id, busyFlag(deps, worker.id))).state).toBe('claimed');
  expect(await view()).toMatchObject({ status: 'busy', current_task: a });
  // b starts while a's result is still being stored.
  expect((await claimTask(deps, b, worker.id, busyFlag(deps, worker.id))).state).toBe('claimed');
  expect(await finish(worker.id, a)).toBe(true);
  expect(await view()).toMatchObject({ status: 'busy', current_task: b });
  expect(await finish(worker.id, b)).toBe(true);
  expect(await view()).toMatchObject({ status: 'idle', current_task: null });
});

test('an attempt that no longer owns its task still takes the worker off it', async () => {
  const taskId = await newTask();
  expect((await claimTask(deps, taskId, worker.id, busyFlag(deps, worker.id))).state).toBe('claimed');
  // Another delivery claimed the task meanwhile (attempt 2): this attempt records nothing, but the worker is done with it.
  expect((await claimTask(deps, taskId, 'worker-other')).state).toBe('claimed');
  expect(await finish(worker.id, taskId, 1)).toBe(false);
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

test('finishing for a worker whose record is gone does not recreate a partial record', async () => {
  const key = deps.key('worker', 'gone-worker');
  const taskId = await newTask();
  expect((await claimTask(deps, taskId, 'gone-worker')).state).toBe('claimed');
  expect(await finish('gone-worker', taskId)).toBe(true);
  expect(await deps.redis.exists(key)).toBe(0);
});
