import path from 'node:path';
import { closePool, filterPool } from '../../lib/filters/pool';

afterAll(() => closePool());

test('a pool whose warm-up failed is not cached: the next request builds a working one', async () => {
  const broken = { filename: path.join(__dirname, 'no-such-pool-worker.js') };
  await expect(filterPool(1, broken)).rejects.toThrow();
  // The old code kept the failed pool (and its rejected warm-up) for the life of the process.
  const pool = await filterPool(1);
  expect(pool.info.warm_ms).toBeGreaterThan(0);
  expect(await pool.piscina.run({ warmup: true })).toBeDefined();
});

test('the pool has an error listener, so a worker dying outside a task cannot crash the process', async () => {
  const pool = await filterPool(1);
  expect(pool.piscina.listenerCount('error')).toBeGreaterThanOrEqual(1);
});
