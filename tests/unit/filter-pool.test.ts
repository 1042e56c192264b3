import { readFileSync } from 'node:fs';
import path from 'node:path';
import { processImage, DEFAULT_LIMITS } from '../../lib/filters/pipeline';
import { closePool, filterPool, poolInfo, runInPool } from '../../lib/filters/pool';
import { parseFilterSteps } from '../../lib/filters/request';

const SAMPLE = readFileSync(path.join(__dirname, '..', '..', 'static', 'sample_4k.jpg'));
const steps = parseFilterSteps(['resize', 'sharpen', 'edges'], { resize: { width: 1024, height: 768 } });

afterAll(() => closePool());

test('a pool worker produces exactly what the API thread produces', async () => {
  const [inPool, inline] = await Promise.all([runInPool(SAMPLE, steps, DEFAULT_LIMITS, 2), processImage(SAMPLE, steps)]);
  expect(Buffer.isBuffer(inPool.output)).toBe(true);
  expect(inPool.output.equals(inline.output)).toBe(true);
  expect(inPool.thread_id).not.toBe(inline.thread_id);
});

test('the pool is created once and reused', async () => {
  const first = (await filterPool(2)).info.id;
  await Promise.all([1, 2, 3, 4].map(() => runInPool(SAMPLE, steps, DEFAULT_LIMITS, 2)));
  expect((await filterPool(2)).info.id).toBe(first);
  expect(poolInfo()).toMatchObject({ id: first, threads: 2 });
  expect(poolInfo()!.completed_tasks).toBeGreaterThanOrEqual(5);
});
