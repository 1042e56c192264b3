/**
 * The batch API's multiprocessing strategy runs images in pool threads; an image that cannot
 * be decoded there must be refused as it is on the JS thread (ImageRejectedError: 422), not
 * turned into a plain Error by the thread crossing (500).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ImageRejectedError } from '../../lib/core/errors';
import { processImage, DEFAULT_LIMITS } from '../../lib/filters/pipeline';
import { closePool, runInPool } from '../../lib/filters/pool';
import { parseFilterSteps } from '../../lib/filters/request';

const SAMPLE = readFileSync(path.join(__dirname, '..', '..', 'static', 'sample_4k.jpg'));
const TRUNCATED = SAMPLE.subarray(0, SAMPLE.length / 2);
const steps = parseFilterSteps(['sharpen', 'edges'], {});

afterAll(() => closePool());

test('a pool thread refuses an undecodable image with the same typed error as the JS thread', async () => {
  const inline = await processImage(TRUNCATED, steps).catch((e: unknown) => e);
  const inPool = await runInPool(TRUNCATED, steps, DEFAULT_LIMITS, 1).catch((e: unknown) => e);
  expect(inline).toBeInstanceOf(ImageRejectedError);
  expect(inPool).toBeInstanceOf(ImageRejectedError);
  expect((inPool as ImageRejectedError).message).toBe((inline as ImageRejectedError).message);
  expect((inPool as ImageRejectedError).status).toBe(422);
}, 60_000);

test('too many pixels is refused in the pool as on the JS thread, and the pool still works after', async () => {
  const limits = { ...DEFAULT_LIMITS, maxInputPixels: 1_000_000 };
  const e = await runInPool(SAMPLE, steps, limits, 1).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(ImageRejectedError);
  expect((e as Error).message).toMatch(/more than 1000000 pixels/);
  const ok = await runInPool(SAMPLE, steps, DEFAULT_LIMITS, 1);
  expect(ok.width).toBe(3840);
}, 60_000);
