// OPENCV_BUILD: the committed WASM-SIMD build of OpenCV 4.6 is the default and must
// draw exactly what @techstark/opencv-js 4.12 draws, refuse to run if its file changed, keep its
// heap flat, and leave @techstark usable as the fallback.
import { copyFileSync, appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { ConfigError, loadConfig } from '../../lib/core/config';
import { loadOpenCv, loadOpenCvBuild, simdBuildPath, SIMD_BUILD_SHA256, type OpenCv } from '../../lib/filters/opencv';
import { runOpenCv } from '../../lib/filters/opencv-executor';
import { FILTERS } from '../../lib/filters/registry';
import { SAMPLE_4K } from '../helpers/filter-reference';

const EDGES = { low_threshold: 50, high_threshold: 150, pre_blur: true };

test('OPENCV_BUILD defaults to simd, takes techstark, and refuses anything else by name', () => {
  expect(loadConfig({}).processing.opencvBuild).toBe('simd');
  expect(loadConfig({ OPENCV_BUILD: 'techstark' }).processing.opencvBuild).toBe('techstark');
  expect(() => loadConfig({ OPENCV_BUILD: 'wasm' })).toThrow(ConfigError);
  expect(() => loadConfig({ OPENCV_BUILD: 'wasm' })).toThrow(/OPENCV_BUILD must be simd or techstark, got "wasm"/);
});

test('the default loader runs the SIMD build', async () => {
  const { cv } = await loadOpenCv();
  expect(cv.getBuildInformation()).toMatch(/-msimd128/);
  expect(cv.getBuildInformation()).toMatch(/OpenCV 4\.6\.0/);
});

/** Every kernel the project uses, on the 4K sample, copied out of the heap. */
function kernels(cv: OpenCv, rgb: Buffer, w: number, h: number): Record<string, Buffer> {
  const mats: any[] = [];
  const m = <T>(x: T): T => (mats.push(x), x);
  try {
    const src = m(new cv.Mat(h, w, cv.CV_8UC3));
    src.data.set(rgb);
    const grey = m(new cv.Mat());
    cv.cvtColor(src, grey, cv.COLOR_RGB2GRAY);
    const blurred = m(new cv.Mat());
    cv.GaussianBlur(grey, blurred, new cv.Size(5, 5), 0, 0, cv.BORDER_DEFAULT);
    const edges = m(new cv.Mat());
    cv.Canny(blurred, edges, 50, 150);
    const k = m(cv.matFromArray(3, 3, cv.CV_32F, [0, -1, 0, -1, 5, -1, 0, -1, 0]));
    const sharpened = m(new cv.Mat());
    cv.filter2D(src, sharpened, cv.CV_8U, k, new cv.Point(-1, -1), 0, cv.BORDER_DEFAULT);
    return Object.fromEntries(Object.entries({ grey, blurred, edges, sharpened }).map(([n, x]) => [n, Buffer.from(x.data)]));
  } finally {
    for (const x of mats) x.delete();
  }
}

test('both builds load without leaving process-wide handlers and give identical pixels at 4K', async () => {
  const handlers = () => [process.listenerCount('unhandledRejection'), process.listenerCount('uncaughtException')];
  const before = handlers();
  const simd = await loadOpenCvBuild({ path: simdBuildPath(), sha256: SIMD_BUILD_SHA256 });
  const techstark = await loadOpenCvBuild('techstark');
  expect(handlers()).toEqual(before);
  expect(simd.then).toBeUndefined();
  expect(simd).not.toBe(techstark);

  const { data, info } = await sharp(SAMPLE_4K).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const a = kernels(simd, data, info.width, info.height);
  const b = kernels(techstark, data, info.width, info.height);
  for (const name of Object.keys(b)) {
    expect([name, a[name].length]).toEqual([name, b[name].length]);
    expect([name, a[name].equals(b[name])]).toEqual([name, true]);
  }
  // Not trivially equal: Canny found edges.
  expect(a.edges.filter((v) => v === 255).length).toBeGreaterThan(10_000);
}, 60_000);

test('a SIMD build whose file does not match its sha256 is refused before it runs', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'opencv-simd-'));
  try {
    const copy = path.join(dir, 'opencv_js.js');
    copyFileSync(simdBuildPath(), copy);
    appendFileSync(copy, '\n// changed\n');
    await expect(loadOpenCvBuild({ path: copy, sha256: SIMD_BUILD_SHA256 })).rejects.toThrow(/opencv_js\.js: sha256 [0-9a-f]{64}, expected 8677/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('OpenCV errors from the SIMD build still read as text', async () => {
  const { cv } = await loadOpenCv();
  const grey = new cv.Mat(4, 4, cv.CV_8UC1);
  const out = new cv.Mat();
  try {
    let thrown: unknown;
    try {
      cv.cvtColor(grey, out, cv.COLOR_RGB2GRAY);
    } catch (e) {
      thrown = e;
    }
    expect(typeof thrown).toBe('number');
    expect(cv.exceptionFromPtr(thrown).msg).toMatch(/Invalid number of channels/);
  } finally {
    grey.delete();
    out.delete();
  }
});

// The memory rule: no growth over 500 iterations. At 1920x1080 (a quarter of 4K) to keep
// the test short; a leaked Mat per run would still need >1 GiB over 500 runs and fail the heap check.
test('500 edge runs through the executor leave the SIMD build heap and RSS flat', async () => {
  const { cv } = await loadOpenCv();
  const { data, info } = await sharp(SAMPLE_4K).resize(1920, 1080).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const img = { data, width: info.width, height: info.height, channels: 3 as const };
  const op = (c: OpenCv, src: any, track: <T>(m: T) => T) => FILTERS.edges.opencvOp!(c, src, EDGES, track);
  for (let i = 0; i < 20; i++) await runOpenCv(img, [op]);
  const heap = cv.HEAPU8.length;
  const rss = process.memoryUsage().rss;
  let out;
  for (let i = 0; i < 500; i++) out = (await runOpenCv(img, [op])).output;
  expect(cv.HEAPU8.length).toBe(heap);
  expect(process.memoryUsage().rss - rss).toBeLessThan(64 * 2 ** 20);
  expect(out!.data.length).toBe(1920 * 1080);
}, 120_000);
