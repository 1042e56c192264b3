// JPEG_CODEC=libjpeg-turbo (the default, lib/filters/jpeg-turbo.ts): chains that start or end
// in OpenCV decode and encode with libjpeg-turbo straight to and from the WASM heap. It must
// draw the pictures sharp's codec draws (within the reference test's bounds: ≥ 40 dB, ≥ 98%), leave every image it does
// not decode like sharp (rotation, profiles, CMYK, limits, broken files) to sharp, and leak nothing.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../../lib/core/config';
import { ImageRejectedError } from '../../lib/core/errors';
import { encode, jpegTurbo } from '../../lib/filters/jpeg-turbo';
import { loadOpenCv } from '../../lib/filters/opencv';
import { DEFAULT_LIMITS, processImage, type ProcessLimits } from '../../lib/filters/pipeline';
import { parseFilterSteps } from '../../lib/filters/request';
import { psnr } from '../helpers/filter-reference';

const SAMPLE = readFileSync(path.join(__dirname, '..', '..', 'static', 'sample_4k.jpg'));
const TURBO: ProcessLimits = { ...DEFAULT_LIMITS, jpegCodec: 'libjpeg-turbo' };
const SHARP: ProcessLimits = { ...DEFAULT_LIMITS, jpegCodec: 'sharp' };
const steps = (names: string[]) => parseFilterSteps(names, {});

async function pixels(jpeg: Buffer) {
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** Share of equal values, after thresholding an edge map's JPEG ringing back to 0/255. */
function identicalEdges(a: Buffer, b: Buffer): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] >= 128 === b[i] >= 128) same++;
  return same / a.length;
}

test('JPEG_CODEC defaults to libjpeg-turbo, takes sharp, and refuses anything else by name', () => {
  expect(loadConfig({}).processing.jpegCodec).toBe('libjpeg-turbo');
  expect(loadConfig({ JPEG_CODEC: 'sharp' }).processing.jpegCodec).toBe('sharp');
  expect(() => loadConfig({ JPEG_CODEC: 'mozjpeg' })).toThrow(/JPEG_CODEC.*libjpeg-turbo or sharp/);
  // The binding loads on this platform: otherwise every test below would compare sharp with itself.
  expect(jpegTurbo('libjpeg-turbo')).toBeDefined();
  expect(jpegTurbo('sharp')).toBeUndefined();
});

test('edges and [sharpen, edges] draw the edge maps sharp\'s codec draws, decoded to grey and encoded by libjpeg-turbo', async () => {
  for (const names of [['edges'], ['sharpen', 'edges']]) {
    const [fast, slow] = await Promise.all([processImage(SAMPLE, steps(names), TURBO), processImage(SAMPLE, steps(names), SHARP)]);
    expect(fast.decode_ms).toBeGreaterThan(0);
    expect(fast.encode_ms).toBeGreaterThan(0);
    expect(fast.filters.map((f) => f.name)).toEqual(names);
    expect(fast.output.equals(slow.output)).toBe(false); // two codecs really ran
    // Not a view of the binding's worst-case buffer (16.6 MB behind a 4K edge map), which a
    // held result would pin and a pool thread's result would be cloned with.
    expect(fast.output.buffer.byteLength).toBe(fast.output.length);
    expect([fast.width, fast.height, fast.channels, (await sharp(fast.output).metadata()).channels]).toEqual([3840, 2160, 1, 1]);
    const [a, b] = await Promise.all([pixels(fast.output), pixels(slow.output)]);
    expect(identicalEdges(a.data, b.data)).toBeGreaterThan(0.995);
  }
}, 60_000);

test('sharpen through libjpeg-turbo stays within 40 dB of sharp\'s codec, in colour', async () => {
  const [fast, slow] = await Promise.all([processImage(SAMPLE, steps(['sharpen']), TURBO), processImage(SAMPLE, steps(['sharpen']), SHARP)]);
  const [a, b] = await Promise.all([pixels(fast.output), pixels(slow.output)]);
  expect([a.width, a.height, a.channels]).toEqual([3840, 2160, 3]);
  expect(psnr(a.data, b.data)).toBeGreaterThanOrEqual(40);
}, 60_000);

test('what libjpeg-turbo would decode differently goes to sharp: EXIF rotation, a Display P3 profile, CMYK', async () => {
  const small = sharp(SAMPLE).resize(480, 270);
  const cases = {
    rotated: await small.clone().withMetadata({ orientation: 6 }).jpeg().toBuffer(),
    p3: await small.clone().withIccProfile('p3').jpeg().toBuffer(),
    cmyk: await small.clone().toColourspace('cmyk').jpeg().toBuffer(),
  };
  // Decoded by libjpeg-turbo, the P3 image would keep its P3 numbers: far from sharp's conversion.
  const turbo = jpegTurbo('libjpeg-turbo')!;
  const p3AsIs = Buffer.alloc(480 * 270 * 3);
  turbo.decompressSync(cases.p3, p3AsIs, { format: turbo.FORMAT_RGB });
  expect(psnr(p3AsIs, (await pixels(await sharp(cases.p3).toColourspace('srgb').jpeg({ quality: 100 }).toBuffer())).data)).toBeLessThan(40);

  for (const [name, input] of Object.entries(cases)) {
    for (const names of [['sharpen'], ['edges']]) {
      const [fast, slow] = await Promise.all([processImage(input, steps(names), TURBO), processImage(input, steps(names), SHARP)]);
      expect({ name, names, dims: [fast.width, fast.height] }).toEqual({ name, names, dims: name === 'rotated' ? [270, 480] : [480, 270] });
      // Both decoded by sharp; only the encoders differ (libjpeg-turbo's fast DCT against sharp's).
      const [a, b] = await Promise.all([pixels(fast.output), pixels(slow.output)]);
      expect({ name, names, psnr: psnr(a.data, b.data) >= 44 }).toEqual({ name, names, psnr: true });
    }
  }
}, 60_000);

test('sharp\'s rules still decide what is refused: truncated, too many pixels; a file with only a warning is decoded', async () => {
  const edges = steps(['edges']);
  await expect(processImage(SAMPLE.subarray(0, SAMPLE.length / 2), edges, TURBO)).rejects.toBeInstanceOf(ImageRejectedError);
  await expect(processImage(SAMPLE, edges, { ...TURBO, maxInputPixels: 1_000_000 })).rejects.toThrow(/more than 1000000 pixels; refused without decoding/);
  await expect(processImage(Buffer.from('not a JPEG'), edges, TURBO)).rejects.toThrow(/could not be decoded/);
  // Four stray bytes before the end marker: libjpeg warns ("extraneous bytes"), libjpeg-turbo's
  // binding throws on any warning, sharp (failOn 'error') decodes: the image is processed.
  const small = await sharp(SAMPLE).resize(480, 270).jpeg().toBuffer();
  const stray = Buffer.concat([small.subarray(0, -2), Buffer.from([1, 2, 3, 4]), small.subarray(-2)]);
  const turbo = jpegTurbo('libjpeg-turbo')!;
  expect(() => turbo.decompressSync(stray, Buffer.alloc(480 * 270), { format: turbo.FORMAT_GRAY })).toThrow();
  await expect(processImage(stray, edges, TURBO)).resolves.toMatchObject({ width: 480, height: 270, channels: 1 });
}, 60_000);

test('optimised Huffman tables (JPEG_OPTIMIZE_CODING) are written by sharp\'s encoder, which has them', async () => {
  const plain = await processImage(SAMPLE, steps(['edges']), TURBO);
  const optimised = await processImage(SAMPLE, steps(['edges']), { ...TURBO, jpegOptimizeCoding: true });
  expect(optimised.output.length).toBeLessThan(plain.output.length * 0.99);
  const [a, b] = await Promise.all([pixels(plain.output), pixels(optimised.output)]);
  expect(identicalEdges(a.data, b.data)).toBeGreaterThan(0.995);
}, 60_000);

// The OpenCV memory rule (no heap or RSS growth), on this path: 500 images decoded into and encoded from the heap
// (1920x1080, a quarter of 4K, to keep it short) leave the WASM heap and RSS flat.
test('each encoded JPEG is its own copy: later encodes, into the kept scratch or a one-off buffer for a frame too big to keep, leave it intact', async () => {
  const turbo = jpegTurbo('libjpeg-turbo')!;
  /** A grey frame of one level, so its JPEG decodes back to that level (± JPEG noise). */
  const flat = (width: number, height: number, level: number) => ({ data: Buffer.alloc(width * height, level), width, height, channels: 1 as const });
  const meanOf = async (jpeg: Buffer) => {
    const { data } = await pixels(jpeg);
    return data.reduce((a, b) => a + b, 0) / data.length;
  };
  const first = encode(turbo, flat(640, 480, 40), 90);
  const firstBytes = Buffer.from(first);
  const second = encode(turbo, flat(640, 480, 200), 90); // same size: the same scratch
  // 5000 x 4000 grey needs 38 MiB of room, over what a thread keeps (24 MiB): a buffer of its own.
  const big = encode(turbo, flat(5000, 4000, 120), 90);
  const third = encode(turbo, flat(640, 480, 90), 90); // back to the kept scratch
  expect(first.equals(firstBytes)).toBe(true);
  expect(await meanOf(first)).toBeCloseTo(40, 0);
  expect(await meanOf(second)).toBeCloseTo(200, 0);
  expect(await meanOf(big)).toBeCloseTo(120, 0);
  expect(await meanOf(third)).toBeCloseTo(90, 0);
  // Each result is a buffer of exactly its own bytes, not a view of the scratch.
  for (const jpeg of [first, second, big, third]) expect(jpeg.buffer.byteLength).toBeLessThan(1024 * 1024);
});

test('500 edge images through libjpeg-turbo leave the WASM heap and RSS flat', async () => {
  const { cv } = await loadOpenCv();
  const input = await sharp(SAMPLE).resize(1920, 1080).jpeg({ quality: 90 }).toBuffer();
  for (let i = 0; i < 20; i++) await processImage(input, steps(['sharpen', 'edges']), TURBO);
  const heap = cv.HEAPU8.length;
  const rss = process.memoryUsage().rss;
  let out;
  for (let i = 0; i < 500; i++) out = await processImage(input, steps(['sharpen', 'edges']), TURBO);
  expect(cv.HEAPU8.length).toBe(heap);
  expect(process.memoryUsage().rss - rss).toBeLessThan(64 * 2 ** 20);
  expect([out!.width, out!.height, out!.channels]).toEqual([1920, 1080, 1]);
}, 120_000);
