import { spawn, type ChildProcess } from 'node:child_process';
import { getJson } from '../helpers/shared-stack';
import { startStack, type RunningStack } from '../helpers/stack';
import { freePort, waitFor } from '../../scripts/local/processes';
import { sleep } from '../../lib/core/time';

// A Redis of this test's own, so killing it disturbs nothing else.
let redisPort: number;
let redis: ChildProcess | undefined;
let stack: RunningStack;

function startRedis(): Promise<void> {
  redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  return sleep(300);
}

function killRedis(): Promise<void> {
  return new Promise((resolve) => {
    if (!redis || redis.exitCode !== null) return resolve();
    redis.once('exit', () => resolve());
    redis.kill('SIGKILL');
  });
}

beforeAll(async () => {
  redisPort = await freePort();
  await startRedis();
  stack = await startStack({ REDIS_URL: `redis://127.0.0.1:${redisPort}`, REDIS_AUTOSTART: '0', DEPENDENCY_TIMEOUT_MS: '1000' }, 'redis-outage');
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await killRedis();
});

test('health turns 503 naming redis while it is down, and recovers by itself', async () => {
  expect((await getJson(`${stack.url}/api/health/`)).status).toBe(200);

  await killRedis();
  const down = await waitFor('503 from health', 15_000, async () => {
    const r = await getJson(`${stack.url}/api/health/`);
    return r.status === 503 ? r : undefined;
  });
  expect(down.body.status).toBe('unavailable');
  expect(down.body.failing).toEqual(['redis']);
  expect(down.body.checks.redis.ok).toBe(false);
  expect(down.body.checks.sqs.ok).toBe(true);
  expect(down.body.error.message).toMatch(/redis/);
  // The dependency is named; the raw client error (address, errno) stays in the server log.
  expect(JSON.stringify([down.body.checks.redis, down.body.error])).not.toMatch(/ECONNREFUSED|Connection is closed|127\.0\.0\.1:\d+/);

  // Stats live in Redis: a clear 503, quickly, never a hang.
  const t0 = performance.now();
  const stats = await getJson(`${stack.url}/api/stats/`);
  expect(stats.status).toBe(503);
  expect(stats.body.error).toMatchObject({ code: 'dependency_unavailable', dependency: 'redis' });
  expect(JSON.stringify(stats.body)).not.toMatch(/ECONNREFUSED|Connection is closed|127\.0\.0\.1:\d+|max retries/i);
  expect(performance.now() - t0).toBeLessThan(5000);

  // Endpoints that do not need Redis keep working.
  expect((await getJson(`${stack.url}/api/image/info/`)).status).toBe(200);

  await startRedis();
  const up = await waitFor('200 from health', 20_000, async () => {
    const r = await getJson(`${stack.url}/api/health/`);
    return r.status === 200 ? r : undefined;
  }, 300);
  expect(up.body.checks.redis.ok).toBe(true);
  expect((await getJson(`${stack.url}/api/stats/`)).status).toBe(200);
}, 90_000);
