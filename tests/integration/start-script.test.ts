import { freePort } from '../../scripts/local/processes';
import { getJson, sharedStack } from '../helpers/shared-stack';
import { isolatedEnv, spawnStart, startStack } from '../helpers/stack';
import { probePort } from '../../scripts/local/processes';

const STACK_TRACE = /\n\s+at .+:\d+:\d+/;

test('a second start on a busy port fails with a clear message, not a stack trace', async () => {
  const env = await isolatedEnv({ PORT: sharedStack().env.PORT });
  const run = spawnStart(env, 'second-start');
  const code = await run.done;
  expect(code).toBe(2);
  expect(run.output()).toMatch(new RegExp(`port ${env.PORT} on 127\\.0\\.0\\.1 \\(HTTP API\\) is already in use`));
  expect(run.output()).toContain('PORT=<port> npm start');
  expect(run.output()).not.toMatch(STACK_TRACE);
  // The running stack is untouched.
  expect((await getJson(`${sharedStack().url}/api/health/`)).status).toBe(200);
});

test('without Redis and without permission to start one, it says how to get Redis', async () => {
  const env = await isolatedEnv({ REDIS_URL: `redis://127.0.0.1:${await freePort()}`, REDIS_AUTOSTART: '0' });
  const run = spawnStart(env, 'no-redis');
  expect(await run.done).toBe(2);
  expect(run.output()).toMatch(/nothing answers at REDIS_URL=redis:\/\/127\.0\.0\.1:\d+/);
  expect(run.output()).toMatch(/apt-get install redis-server/);
  expect(run.output()).not.toMatch(STACK_TRACE);
});

test('a bad variable stops start-up with a message naming it', async () => {
  const run = spawnStart(await isolatedEnv({ PORT: 'eighty' }), 'bad-config');
  expect(await run.done).toBe(2);
  expect(run.output()).toMatch(/configuration error: PORT must be an integer from 1 to 65535, got "eighty"/);
});

test('starts a private redis-server when none answers, and SIGTERM stops everything it started', async () => {
  const redisPort = await freePort();
  const stack = await startStack({ REDIS_URL: `redis://127.0.0.1:${redisPort}` }, 'private-redis');
  expect(stack.output()).toMatch(/private redis-server started by npm start/);
  const health = await getJson(`${stack.url}/api/health/`);
  expect(health.status).toBe(200);

  expect(await stack.stop('SIGTERM')).toBe(0);
  expect(stack.output()).toMatch(/\[start\] stopped/);
  // Every port it used is free again: API, Lambda endpoint, emulator, private Redis.
  for (const port of [stack.env.PORT, stack.env.LAMBDA_PORT, stack.env.EMULATOR_PORT, String(redisPort)]) {
    await expect(probePort('127.0.0.1', Number(port))).resolves.toBeUndefined();
  }
}, 90_000);
