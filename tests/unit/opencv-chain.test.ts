// Consecutive OpenCV steps share one trip into the WASM heap (lib/filters/opencv-executor.ts
// runOpenCv). Sharing must not change a single pixel (beyond greyFirst's documented
// reordering), lose a step's timing or leak Mats.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { applyFilter, decode, DEFAULT_LIMITS, encodeJpeg, greyFirst, processImage } from '../../lib/filters/pipeline';
import { runOpenCv } from '../../lib/filters/opencv-executor';
import { loadOpenCv } from '../../lib/filters/opencv';
import { FILTERS } from '../../lib/filters/registry';
import { parseFilterSteps } from '../../lib/filters/request';

const SAMPLE = readFileSync(path.join(__dirname, '..', '..', 'static', 'sample_4k.jpg'));
const EDGES = { low_threshold: 50, high_threshold: 150, pre_blur: true };

test('[sharpen, edges] in one OpenCV run equals the two filters applied one by one to the grey image', async () => {
  const img = await decode(SAMPLE, DEFAULT_LIMITS);
  // The run ends in edges, so sharpen works on the grey image (greyFirst): the same as converting first, then each filter.
  const { output: grey } = await runOpenCv(img, [
    (cv, src, track) => {
      const g = track(new cv.Mat());
      cv.cvtColor(src, g, cv.COLOR_RGB2GRAY);
      return { mat: g, channels: 1 };
    },
  ]);
  const separate = await applyFilter(await applyFilter(grey, 'sharpen', { strength: 1 }), 'edges', EDGES);
  // sharp decodes and encodes: libjpeg-turbo's pixels differ (tests/unit/jpeg-turbo-codec.test.ts).
  const chained = await processImage(SAMPLE, parseFilterSteps(['sharpen', 'edges'], {}), { ...DEFAULT_LIMITS, jpegCodec: 'sharp' });
  expect(chained.output.equals(await encodeJpeg(separate, DEFAULT_LIMITS))).toBe(true);
  expect([chained.width, chained.height, chained.channels]).toEqual([3840, 2160, 1]);

  // And it stays within a quarter percent of sharpening the colour image first.
  const colourFirst = await applyFilter(await applyFilter(img, 'sharpen', { strength: 1 }), 'edges', EDGES);
  let same = 0;
  for (let i = 0; i < separate.data.length; i++) if (separate.data[i] === colourFirst.data[i]) same++;
  expect(same / separate.data.length).toBeGreaterThan(0.9975);
  expect(same).toBeLessThan(separate.data.length); // the orders do differ: the check above is not vacuous
}, 60_000);

test('only a run that ends in edges after nothing but sharpen goes grey first', () => {
  const steps = (names: string[]) => parseFilterSteps(names, {});
  expect(greyFirst(steps(['sharpen', 'edges']))).toBe(true);
  expect(greyFirst(steps(['sharpen', 'sharpen', 'edges']))).toBe(true);
  expect(greyFirst(steps(['edges']))).toBe(false);
  expect(greyFirst(steps(['sharpen']))).toBe(false);
  expect(greyFirst(steps(['edges', 'sharpen']))).toBe(false);
  expect(greyFirst(steps(['sharpen', 'edges', 'sharpen']))).toBe(false);
});

test('every step of a chain keeps its own timing, in request order', async () => {
  const out = await processImage(SAMPLE, parseFilterSteps(['resize', 'sharpen', 'edges', 'sharpen', 'brightness'], {}));
  expect(out.filters.map((f) => f.name)).toEqual(['resize', 'sharpen', 'edges', 'sharpen', 'brightness']);
  for (const f of out.filters) expect(f.ms).toBeGreaterThan(0);
  // Edges makes the image grey; the sharpen after it runs on one channel and brightness keeps it grey.
  expect(out.channels).toBe(1);
}, 60_000);

test('no Mat leaks across chained runs: the WASM heap stays the same size', async () => {
  const { cv } = await loadOpenCv();
  // [edges, edges] is a run of two OpenCV steps in one trip into the heap.
  const steps = parseFilterSteps(['sharpen', 'edges', 'edges'], {});
  await processImage(SAMPLE, steps);
  const heapAfterWarmup = cv.HEAPU8.length;
  for (let i = 0; i < 10; i++) await processImage(SAMPLE, steps);
  expect(cv.HEAPU8.length).toBe(heapAfterWarmup);
}, 120_000);

test('an OpenCV error inside a chain is reported as text and frees the Mats', async () => {
  const { cv } = await loadOpenCv();
  const img = await decode(SAMPLE, DEFAULT_LIMITS);
  const { runOpenCv } = await import('../../lib/filters/opencv-executor');
  const heap = cv.HEAPU8.length;
  const failing = () =>
    runOpenCv(img, [
      (c, src, track) => FILTERS.edges.opencvOp!(c, src, EDGES, track),
      (c, src, track) => {
        const dst = track(new c.Mat());
        c.cvtColor(src, dst, c.COLOR_RGB2GRAY); // src is edges' one channel: OpenCV refuses
        return { mat: dst, channels: 1 };
      },
    ]);
  // Five failures that each leaked their 25 MB and 8 MB Mats would have grown the heap.
  for (let i = 0; i < 5; i++) await expect(failing()).rejects.toThrow(/OpenCV failed: .*(scn|channel|Invalid)/i);
  expect(cv.HEAPU8.length).toBe(heap);
}, 60_000);
