import { readFileSync } from 'node:fs';
import path from 'node:path';
import { applyFilter, decode, DEFAULT_LIMITS } from '../../lib/filters/pipeline';
import { loadOpenCv } from '../../lib/filters/opencv';

const SAMPLE = readFileSync(path.join(__dirname, '..', '..', 'static', 'sample_4k.jpg'));

test('OpenCV loads without hanging or leaving process-wide handlers', async () => {
  const before = [process.listenerCount('unhandledRejection'), process.listenerCount('uncaughtException')];
  const { cv } = await loadOpenCv();
  expect(typeof cv.Mat).toBe('function');
  expect(cv.then).toBeUndefined();
  expect([process.listenerCount('unhandledRejection'), process.listenerCount('uncaughtException')]).toEqual(before);
  // A second load is the same module, not a reload.
  expect((await loadOpenCv()).cv).toBe(cv);
});

test('no Mat leaks: the WASM heap stays the same size over many 4K sharpen+edges runs', async () => {
  const { cv } = await loadOpenCv();
  const img = await decode(SAMPLE, DEFAULT_LIMITS);
  const once = async () => applyFilter(await applyFilter(img, 'sharpen', { strength: 1 }), 'edges', { low_threshold: 50, high_threshold: 150, pre_blur: true });
  await once();
  const heapAfterWarmup = cv.HEAPU8.length;
  let last;
  for (let i = 0; i < 12; i++) last = await once();
  // Leaking one 33 MB Mat per run would have grown the heap past 256 MiB by now.
  expect(cv.HEAPU8.length).toBe(heapAfterWarmup);
  expect(last!.data.length).toBe(3840 * 2160);
}, 60_000);
