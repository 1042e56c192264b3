import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { ImageRejectedError } from '../../lib/core/errors';
import { decode, DEFAULT_LIMITS } from '../../lib/filters/pipeline';

const SAMPLE = readFileSync(path.join(__dirname, '..', '..', 'static', 'sample_4k.jpg'));

test('a decompression bomb (tiny file, 100 MP) is refused from its header', async () => {
  const bomb = await sharp({ create: { width: 10_000, height: 10_000, channels: 3, background: '#000' } }).png({ compressionLevel: 9 }).toBuffer();
  expect(bomb.length).toBeLessThan(1_000_000);
  const t0 = performance.now();
  await expect(decode(bomb, DEFAULT_LIMITS)).rejects.toThrow(/more than 50000000 pixels; refused without decoding/);
  expect(performance.now() - t0).toBeLessThan(1000);
});

test('a truncated JPEG is refused, not half-decoded', async () => {
  await expect(decode(SAMPLE.subarray(0, SAMPLE.length / 2), DEFAULT_LIMITS)).rejects.toBeInstanceOf(ImageRejectedError);
});

test('text is not an image', async () => {
  await expect(decode(Buffer.from('hello, I am not a JPEG'), DEFAULT_LIMITS)).rejects.toThrow(/could not be decoded/);
});

test('the pixel cap is configurable', async () => {
  await expect(decode(SAMPLE, { ...DEFAULT_LIMITS, maxInputPixels: 1_000_000 })).rejects.toThrow(/more than 1000000 pixels/);
  await expect(decode(SAMPLE, DEFAULT_LIMITS)).resolves.toMatchObject({ width: 3840, height: 2160, channels: 3 });
});
