import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { applyFilter, decode, processImage, DEFAULT_LIMITS } from '../../lib/filters/pipeline';
import { parseFilterSteps } from '../../lib/filters/request';
import { laplacianVariance, meanLuminance } from '../helpers/image-metrics';

const SAMPLE = readFileSync(path.join(__dirname, '..', '..', 'static', 'sample_4k.jpg'));
const run = (filters: string[], params: Record<string, unknown> = {}) => processImage(SAMPLE, parseFilterSteps(filters, params));

let original: Awaited<ReturnType<typeof decode>>;
beforeAll(async () => {
  original = await decode(SAMPLE, DEFAULT_LIMITS);
});

test('resize gives the asked size (seed default 800x600) and keeps aspect with fit=inside', async () => {
  const def = await run(['resize']);
  expect([def.width, def.height]).toEqual([800, 600]);
  const meta = await sharp(def.output).metadata();
  expect([meta.width, meta.height, meta.format]).toEqual([800, 600, 'jpeg']);
  const fill = await run(['resize'], { resize: { width: 1024, height: 768, fit: 'fill' } });
  expect([fill.width, fill.height]).toEqual([1024, 768]);
  const inside = await run(['resize'], { resize: { width: 1000, height: 1000, fit: 'inside' } });
  expect(inside.width).toBe(1000);
  expect(inside.height).toBe(Math.round((1000 * 2160) / 3840));
});

test('blur lowers sharpness and sharpen raises it (variance of the Laplacian)', async () => {
  const base = await laplacianVariance(original);
  const blurred = await applyFilter(original, 'blur', { radius: 3 });
  const sharpened = await applyFilter(original, 'sharpen', { strength: 1 });
  expect(await laplacianVariance(blurred)).toBeLessThan(base * 0.5);
  expect(await laplacianVariance(sharpened)).toBeGreaterThan(base * 1.5);
  // A stronger blur blurs more.
  expect(await laplacianVariance(await applyFilter(original, 'blur', { radius: 8 }))).toBeLessThan(await laplacianVariance(blurred));
});

test('brightness scales mean luminance by about the factor', async () => {
  const base = await meanLuminance(original);
  const darker = await meanLuminance(await applyFilter(original, 'brightness', { factor: 0.5 }));
  expect(darker / base).toBeGreaterThan(0.47);
  expect(darker / base).toBeLessThan(0.53);
  const brighter = await meanLuminance(await applyFilter(original, 'brightness', { factor: 1.5 }));
  // Highlights clip at 255, so the ratio is at most the factor.
  expect(brighter / base).toBeGreaterThan(1.25);
  expect(brighter / base).toBeLessThanOrEqual(1.5);
});

test('edges gives a mostly dark single-channel image with thin bright outlines', async () => {
  const edges = await applyFilter(original, 'edges', { low_threshold: 50, high_threshold: 150, pre_blur: true });
  expect(edges.channels).toBe(1);
  expect([edges.width, edges.height]).toEqual([3840, 2160]);
  let bright = 0;
  let other = 0;
  for (const v of edges.data) {
    if (v === 255) bright++;
    else if (v !== 0) other++;
  }
  expect(other).toBe(0);
  const share = bright / edges.data.length;
  expect(share).toBeGreaterThan(0.001);
  expect(share).toBeLessThan(0.2);
  // Lower thresholds find more edges.
  const more = await applyFilter(original, 'edges', { low_threshold: 10, high_threshold: 30, pre_blur: true });
  expect(more.data.filter((v) => v === 255).length).toBeGreaterThan(bright);
});

test('the request order is the order applied', async () => {
  const resizeThenEdges = await run(['resize', 'edges']);
  const edgesThenResize = await run(['edges', 'resize']);
  expect(resizeThenEdges.filters.map((f) => f.name)).toEqual(['resize', 'edges']);
  expect(edgesThenResize.filters.map((f) => f.name)).toEqual(['edges', 'resize']);
  // Canny last leaves pure black/white; resizing after Canny leaves grey anti-aliased lines.
  const greys = async (jpeg: Buffer) => {
    const { data } = await sharp(jpeg).greyscale().raw().toBuffer({ resolveWithObject: true });
    return data.filter((v) => v > 60 && v < 195).length / data.length;
  };
  expect(await greys(edgesThenResize.output)).toBeGreaterThan((await greys(resizeThenEdges.output)) * 1.5);
});

test('each step reports its own time; sharp filters at the ends share the decode or encode', async () => {
  const r = await run(['resize', 'sharpen', 'blur']);
  expect(r.filters).toEqual([
    { name: 'resize', ms: expect.any(Number), includes: ['decode'] },
    { name: 'sharpen', ms: expect.any(Number), includes: [] },
    { name: 'blur', ms: expect.any(Number), includes: ['encode'] },
  ]);
  expect([r.decode_ms, r.encode_ms]).toEqual([0, 0]);

  // Both OpenCV: decode and encode are their own steps, around one trip into the WASM heap.
  const cv = await run(['sharpen', 'edges']);
  expect(cv.filters.map((f) => f.includes)).toEqual([[], []]);
  expect(cv.decode_ms).toBeGreaterThan(0);
  expect(cv.encode_ms).toBeGreaterThan(0);
  expect(cv.total_ms).toBeGreaterThanOrEqual(cv.decode_ms + cv.encode_ms);

  const single = await run(['blur']);
  expect(single.filters).toEqual([{ name: 'blur', ms: expect.any(Number), includes: ['decode', 'encode'] }]);
});

test('a single sharp filter gives the same pixels as the plain sharp call', async () => {
  const ours = await run(['blur'], { blur: { radius: 3 } });
  const plain = await sharp(SAMPLE).rotate().blur(3).jpeg({ quality: DEFAULT_LIMITS.jpegQuality, optimiseCoding: DEFAULT_LIMITS.jpegOptimizeCoding }).toBuffer();
  expect(ours.output.equals(plain)).toBe(true);
});
