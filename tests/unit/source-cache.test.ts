// A worker keeps recently read source images (lib/images/source-cache.ts) and hands the same
// bytes to every task on that image: the cache must stay within its cap, and no filter chain
// may write into its input.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_LIMITS, processImage } from '../../lib/filters/pipeline';
import { FILTERS } from '../../lib/filters/registry';
import { parseFilterSteps } from '../../lib/filters/request';
import { SourceCache } from '../../lib/images/source-cache';

const SAMPLE = readFileSync(path.join(__dirname, '..', '..', 'static', 'sample_4k.jpg'));
const entry = (size: number, etag = '"e"') => ({ etag, bytes: Buffer.alloc(size), contentType: 'image/jpeg' });

test('the least recently used images go first once the bytes held pass the cap', () => {
  const cache = new SourceCache(100);
  cache.set('a.jpg', entry(40));
  cache.set('b.jpg', entry(40));
  expect(cache.get('a.jpg')).toBeDefined(); // a is now the most recent
  cache.set('c.jpg', entry(40));
  expect(cache.get('b.jpg')).toBeUndefined();
  expect(cache.get('a.jpg')).toBeDefined();
  expect(cache.get('c.jpg')).toBeDefined();
  expect(cache.size).toEqual({ bytes: 80, entries: 2 });
});

test('a replaced image counts once, an image over the cap is not kept, a deleted one is gone', () => {
  const cache = new SourceCache(100);
  cache.set('a.jpg', entry(60, '"1"'));
  cache.set('a.jpg', entry(30, '"2"'));
  expect(cache.size).toEqual({ bytes: 30, entries: 1 });
  expect(cache.get('a.jpg')?.etag).toBe('"2"');
  cache.set('big.jpg', entry(101));
  expect(cache.get('big.jpg')).toBeUndefined();
  expect(cache.size).toEqual({ bytes: 30, entries: 1 });
  cache.delete('a.jpg');
  expect(cache.size).toEqual({ bytes: 0, entries: 0 });
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

const CHAINS = [...Object.keys(FILTERS).map((f) => [f]), ['sharpen', 'edges'], ['resize', 'sharpen', 'brightness'], ['edges', 'blur']];

test.each(CHAINS.map((filters) => [filters.join(', '), filters] as const))('[%s] leaves the input bytes as they were', async (_name, filters) => {
  // A copy of the 4K sample, as a cache would hand the same bytes to the next task.
  const input = Buffer.from(SAMPLE);
  const before = sha(input);
  for (const jpegCodec of ['libjpeg-turbo', 'sharp'] as const) {
    await processImage(input, parseFilterSteps([...filters], {}), { ...DEFAULT_LIMITS, jpegCodec });
    expect(sha(input)).toBe(before);
  }
}, 60_000);
