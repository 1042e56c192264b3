// Results in the requested format: the bytes, the reported format and quality agree; images
// are auto-oriented; metadata is stripped unless keep_metadata, which keeps the EXIF (with its
// orientation reset, the pixels being upright) and the ICC profile of a JPEG source.
import sharp from 'sharp';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { OutputSchema, withMetadata } from '../../lib/filters/output';
import { processImage, processLimits, DEFAULT_LIMITS } from '../../lib/filters/pipeline';
import { parseFilterSteps } from '../../lib/filters/request';
import { parseField } from '../../lib/core/validate';
import { ValidationError } from '../../lib/core/errors';

const SAMPLE = readFileSync(path.join(__dirname, '..', '..', 'static', 'misurina-sunset.jpg'));
const small = () => parseFilterSteps(['resize'], { resize: { width: 240, height: 160 } });

test.each([
  ['png', 'png'],
  ['webp', 'webp'],
  ['avif', 'heif'],
  ['jpeg', 'jpeg'],
] as const)('format %s: the result decodes as %s and says so', async (format, decoded) => {
  for (const steps of [small(), parseFilterSteps(['resize', 'sharpen', 'edges'], { resize: { width: 240, height: 160 } }), parseFilterSteps(['resize', 'blur'], { resize: { width: 240, height: 160 } })]) {
    const out = await processImage(SAMPLE, steps, { ...DEFAULT_LIMITS, output: { format, keepMetadata: false } });
    expect(out.format).toBe(format);
    const meta = await sharp(out.output).metadata();
    expect(meta.format).toBe(decoded);
    expect([meta.width, meta.height]).toEqual([240, 160]);
    expect(meta.exif).toBeUndefined();
  }
});

test('quality changes a lossy result; the default is JPEG_QUALITY', async () => {
  const at = async (quality?: number) => (await processImage(SAMPLE, small(), { ...DEFAULT_LIMITS, output: { format: 'webp', quality, keepMetadata: false } })).output.length;
  expect(await at(10)).toBeLessThan(await at(95));
  const jpegDefault = await processImage(SAMPLE, small(), DEFAULT_LIMITS);
  expect(jpegDefault.format).toBe('jpeg');
  const jpeg20 = await processImage(SAMPLE, small(), { ...DEFAULT_LIMITS, output: { format: 'jpeg', quality: 20, keepMetadata: false } });
  expect(jpeg20.output.length).toBeLessThan(jpegDefault.output.length);
});

test('a source with EXIF orientation 6 comes out upright; keep_metadata keeps its EXIF with orientation 1, and its ICC profile', async () => {
  const rotated = await sharp(SAMPLE).resize(300, 200).jpeg().withMetadata({ orientation: 6 }).keepIccProfile().toBuffer();
  const src = await sharp(rotated).metadata();
  expect(src.orientation).toBe(6);
  const steps = parseFilterSteps(['blur'], {});
  const stripped = await processImage(rotated, steps, processLimits({ ...DEFAULT_LIMITS, maxInputBytes: 0 } as never));
  const strippedMeta = await sharp(stripped.output).metadata();
  // Upright: 300x200 stored sideways is 200x300 displayed.
  expect([stripped.width, stripped.height]).toEqual([200, 300]);
  expect(strippedMeta.exif).toBeUndefined();
  expect(strippedMeta.orientation).toBeUndefined();
  const kept = await processImage(rotated, steps, { ...DEFAULT_LIMITS, output: { format: 'jpeg', keepMetadata: true } });
  const keptMeta = await sharp(kept.output).metadata();
  expect(keptMeta.exif).toBeDefined();
  expect(keptMeta.orientation).toBe(1);
  expect([keptMeta.width, keptMeta.height]).toEqual([200, 300]);
  expect(keptMeta.icc).toBeDefined();
  // The pixels are the same as the stripped result's: only segments were added.
  const [a, b] = await Promise.all([sharp(stripped.output).raw().toBuffer(), sharp(kept.output).raw().toBuffer()]);
  expect(a.equals(b)).toBe(true);
});

test('withMetadata leaves a result alone when the source has no EXIF or ICC', async () => {
  const plain = await sharp(SAMPLE).resize(64, 64).jpeg().toBuffer();
  const result = await sharp(SAMPLE).resize(32, 32).jpeg().toBuffer();
  expect(withMetadata(result, plain).equals(result)).toBe(true);
});

test.each([
  [{ format: 'gif' }, 'output.format', 'output.format must be one of jpeg, png, webp, avif'],
  [{ format: 'webp', quality: 0 }, 'output.quality', 'output.quality must be an integer from 1 to 100'],
  [{ format: 'webp', quality: 101 }, 'output.quality', 'output.quality must be an integer from 1 to 100'],
  [{ format: 'png', keep_metadata: true }, 'output.keep_metadata', 'output.keep_metadata is supported for format jpeg only'],
  [{ format: 'png', colour: 'red' }, 'output.colour', 'unknown field'],
  ['png', 'output', 'output must be an object'],
])('output %j is refused naming %s', (raw, field, message) => {
  let err: unknown;
  try {
    parseField(OutputSchema, 'output', raw);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ValidationError);
  expect((err as ValidationError).field).toBe(field);
  expect((err as ValidationError).message).toContain(message);
});

test('defaults: jpeg, no quality, metadata stripped', () => {
  expect(parseField(OutputSchema, 'output', {})).toEqual({ format: 'jpeg', quality: undefined, keepMetadata: false });
});
