// A worker stores one task's result while it processes the next, so the end of the older
// task must not mark the worker idle: the busy flag is cleared only by the task it names.
// Against real Redis.
import { closeClients, createClients, type Clients } from '../../lib/core/clients';
import { loadConfig } from '../../lib/core/config';
import { clearBusy, listWorkers, registerWorker, resolveIdentity, setBusy } from '../../lib/worker/registry';
import { runId } from '../helpers/stack';

let deps: Clients;
const worker = resolveIdentity('worker-3', undefined);

beforeAll(async () => {
  deps = createClients(loadConfig({ REDIS_PREFIX: runId() }));
  await registerWorker(deps, worker);
});
afterAll(async () => {
  await deps.redis.del(...(await deps.redis.keys(`${deps.config.redis.prefix}:*`)), 'none');
  await closeClients(deps);
});

const view = async () => (await listWorkers(deps)).find((w) => w.id === worker.id)!;

test('the older task finishing leaves the worker busy with the newer one; the newer one finishing makes it idle', async () => {
  await setBusy(deps, worker.id, 'task-a');
  expect(await view()).toMatchObject({ status: 'busy', current_task: 'task-a' });
  // task-b starts while task-a's result is still being stored.
  await setBusy(deps, worker.id, 'task-b');
  await clearBusy(deps, worker.id, 'task-a');
  expect(await view()).toMatchObject({ status: 'busy', current_task: 'task-b' });
  await clearBusy(deps, worker.id, 'task-b');
  expect(await view()).toMatchObject({ status: 'idle', current_task: null });
});

test('clearing a worker whose record is gone does not recreate a partial record', async () => {
  const key = deps.key('worker', 'gone-worker');
  await clearBusy(deps, 'gone-worker', 'task-a');
  expect(await deps.redis.exists(key)).toBe(0);
});
