/**
 * The embedded emulator starts empty, so task state an earlier `npm start` left in Redis
 * would describe messages and results that no longer exist. A start with the embedded
 * emulator clears its prefix's keys; KEEP_HISTORY=true keeps them.
 */
import Redis from 'ioredis';
import { runId, startStack } from '../helpers/stack';

const redis = new Redis('redis://127.0.0.1:6379');
afterAll(() => redis.quit());

async function leftover(prefix: string) {
  await redis.hset(`${prefix}:task:0f8fad5b-d9cb-469f-a165-70867728950e`, 'status', 'pending', 'image', 'sample_4k.jpg');
  await redis.hset(`${prefix}:worker:worker-9`, 'id', 'worker-9');
}

test('a fresh start shows a fresh system: keys left under its prefix are cleared', async () => {
  const prefix = runId();
  await leftover(prefix);
  const stack = await startStack({ REDIS_PREFIX: prefix }, 'fresh-start');
  try {
    expect(stack.output()).toMatch(new RegExp(`cleared 2 key\\(s\\) under "${prefix}:" left by an earlier run`));
    expect(await redis.exists(`${prefix}:task:0f8fad5b-d9cb-469f-a165-70867728950e`, `${prefix}:worker:worker-9`)).toBe(0);
    const workers = await (await fetch(`${stack.url}/api/workers/status/`)).json();
    expect(workers.workers.map((w: { id: string }) => w.id)).not.toContain('worker-9');
  } finally {
    await stack.stop();
  }
}, 90_000);

test('KEEP_HISTORY=true keeps them', async () => {
  const prefix = runId();
  await leftover(prefix);
  const stack = await startStack({ REDIS_PREFIX: prefix, KEEP_HISTORY: 'true' }, 'keep-history');
  try {
    expect(stack.output()).not.toMatch(/cleared \d+ key/);
    expect(await redis.exists(`${prefix}:task:0f8fad5b-d9cb-469f-a165-70867728950e`, `${prefix}:worker:worker-9`)).toBe(2);
  } finally {
    await stack.stop();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
  }
}, 90_000);
