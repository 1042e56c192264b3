import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { getJson, sharedStack } from '../helpers/shared-stack';
import { ROOT } from '../helpers/stack';
import { sleep } from '../../lib/core/time';

const { url } = sharedStack();

describe('GET /api/image/slow/', () => {
  test('serves the 4K image after the requested delay', async () => {
    const t0 = performance.now();
    const res = await fetch(`${url}/api/image/slow/?delay=1.5`);
    const elapsed = performance.now() - t0;
    expect(res.status).toBe(200);
    expect(res.headers.get('x-delay-s')).toBe('1.5');
    const body = Buffer.from(await res.arrayBuffer());
    const original = readFileSync(path.join(ROOT, 'static', 'sample_4k.jpg'));
    expect(createHash('md5').update(body).digest('hex')).toBe(createHash('md5').update(original).digest('hex'));
    expect(elapsed).toBeGreaterThanOrEqual(1500);
  });

  test('delay=0 is allowed', async () => {
    const res = await fetch(`${url}/api/image/slow/?delay=0`);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });

  test('a slow request does not hold up a fast one', async () => {
    const slow = fetch(`${url}/api/image/slow/?delay=3`).then(async (r) => {
      await r.arrayBuffer();
      return performance.now();
    });
    await sleep(300);
    const { status } = await getJson(`${url}/api/image/info/`);
    const fastDone = performance.now();
    expect(status).toBe(200);
    expect(fastDone).toBeLessThan(await slow);
  });

  test.each(['abc', '-1', '26', '25.5', '1e3', 'NaN', 'Infinity', '', '0x10', '3,0', '1 2', '%20'])('delay=%j is a 400 naming the field and range', async (delay) => {
    const { status, body } = await getJson(`${url}/api/image/slow/?delay=${delay}`);
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 'validation_error', field: 'delay', min: 0, max: 25 });
    expect(body.error.message).toMatch(/delay must be a number from 0 to 25 seconds/);
  });
});
