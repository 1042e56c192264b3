// Closing the batch API's filter pool (lib/filters/pool.ts) while its threads hold images:
// they finish and are returned, and the process lives on. Close must wait: a thread stopped by
// force inside a libjpeg-turbo call takes the whole process down
// ("terminate called after throwing an instance of 'Napi::Error'").
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sleep } from '../../lib/core/time';
import { DEFAULT_LIMITS } from '../../lib/filters/pipeline';
import { closePool, poolInfo, runInPool } from '../../lib/filters/pool';
import { parseFilterSteps } from '../../lib/filters/request';

const SAMPLE = readFileSync(path.join(__dirname, '..', '..', 'static', 'sample_4k.jpg'));
const OPENCV = parseFilterSteps(['sharpen', 'edges'], {});

afterAll(() => closePool());

test('closing the pool with images in both threads lets them finish; the next request gets a new pool', async () => {
  for (let i = 0; i < 6; i++) {
    await runInPool(SAMPLE, OPENCV, DEFAULT_LIMITS, 2);
    const closedPool = poolInfo()!.id;
    const runs = [runInPool(SAMPLE, OPENCV, DEFAULT_LIMITS, 2), runInPool(SAMPLE, OPENCV, DEFAULT_LIMITS, 2)].map((r) =>
      r.then((x) => x.width, (e: unknown) => e),
    );
    await sleep(i * 10);
    await closePool();
    expect(await Promise.all(runs)).toEqual([3840, 3840]);
    expect(poolInfo()).toBeNull();
    await runInPool(SAMPLE, OPENCV, DEFAULT_LIMITS, 2);
    expect(poolInfo()!.id).not.toBe(closedPool);
    await closePool();
  }
}, 120_000);
