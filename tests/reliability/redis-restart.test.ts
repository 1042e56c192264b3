// Redis killed mid-run and started again: the API answers clear 503s while it is down
// (never a hang), workers reconnect by themselves, and every task submitted before the
// outage completes. Redis runs with appendfsync always, as a production one would persist.
import { waitFor } from '../../scripts/local/processes';
import { postJson } from '../helpers/batch';
import { privateRedis, type PrivateRedis } from '../helpers/redis-server';
import { getJson } from '../helpers/shared-stack';
import { startStack, type RunningStack } from '../helpers/stack';
import { startWorker, submit, fetchTaskStatus, fetchWorkersStatus, type WorkerProcess } from '../helpers/workers';
import { sleep } from '../../lib/core/time';

let redis: PrivateRedis;
let stack: RunningStack;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  redis = await privateRedis('redis-restart');
  await redis.start();
  stack = await startStack(
    { REDIS_URL: redis.url, REDIS_AUTOSTART: '0', DEPENDENCY_TIMEOUT_MS: '1000', HEARTBEAT_INTERVAL_S: '1', POLL_WAIT_S: '1', VISIBILITY_TIMEOUT_S: '3' },
    'redis-restart',
  );
  workers.push(await startWorker(stack, 'worker-3'));
}, 120_000);
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  await stack?.stop();
  await redis?.remove();
});

test('tasks submitted before a Redis outage all complete after it; the API says 503 meanwhile', async () => {
  const ids = (await Promise.all(Array.from({ length: 12 }, () => submit(stack, { filters: ['sharpen'] })))).flat();
  await waitFor('work under way', 20_000, async () => ((await fetchWorkersStatus(stack)).tasks.completed >= 1 ? true : undefined), 100);

  await redis.kill();
  const t0 = performance.now();
  const refused = await postJson(`${stack.url}/api/process-batch/distributed/`, { filters: ['blur'] });
  expect(refused.status).toBe(503);
  expect(refused.body.error).toMatchObject({ code: 'dependency_unavailable', dependency: 'redis' });
  const status = await getJson(`${stack.url}/api/task/${ids[0]}/status/`);
  expect(status.status).toBe(503);
  const health = await getJson(`${stack.url}/api/health/`);
  expect(health.status).toBe(503);
  expect(health.body.failing).toEqual(['redis']);
  expect(performance.now() - t0).toBeLessThan(10_000);
  await sleep(2000); // the worker meets the outage mid-run

  await redis.start();
  await waitFor('all tasks terminal', 120_000, async () => {
    const all = await Promise.all(ids.map((id) => fetchTaskStatus(stack, id).catch(() => ({ status: 'unknown' }))));
    return all.every((t) => t.status === 'completed' || t.status === 'failed') ? all : undefined;
  }, 500);
  const finished = await Promise.all(ids.map((id) => fetchTaskStatus(stack, id)));
  expect(finished.map((t) => t.status)).toEqual(ids.map(() => 'completed'));
  expect(workers[0].child.exitCode).toBeNull();
  expect((await getJson(`${stack.url}/api/health/`)).status).toBe(200);
}, 240_000);
