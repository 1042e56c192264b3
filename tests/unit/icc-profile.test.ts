// Decoding skips an embedded sRGB profile (the conversion through it is an identity that costs
// ~60 ms of CPU at 4K) and honours every other one. Real profiles: the sample's own, and the
// ones sharp embeds on request.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { isSrgbProfile } from '../../lib/filters/icc';
import { decode, DEFAULT_LIMITS } from '../../lib/filters/pipeline';

const SAMPLE = readFileSync(path.join(__dirname, '..', '..', 'static', 'sample_4k.jpg'));
const SMALL = sharp(SAMPLE).resize(320, 180);

async function profileOf(buf: Buffer): Promise<Buffer> {
  const { icc } = await sharp(buf).metadata();
  if (!icc) throw new Error('no embedded profile');
  return icc;
}

test('sRGB profiles are recognised from their colorants and curves; Display P3, CMYK and damaged ones are not', async () => {
  expect(isSrgbProfile(await profileOf(SAMPLE))).toBe(true);
  expect(isSrgbProfile(await profileOf(await SMALL.clone().withIccProfile('srgb').jpeg().toBuffer()))).toBe(true);
  const p3 = await profileOf(await SMALL.clone().withIccProfile('p3').jpeg().toBuffer());
  expect(isSrgbProfile(p3)).toBe(false);
  expect(isSrgbProfile(await profileOf(await SMALL.clone().withIccProfile('cmyk').jpeg().toBuffer()))).toBe(false);
  expect(isSrgbProfile(p3.subarray(0, 100))).toBe(false);
  expect(isSrgbProfile(Buffer.alloc(600))).toBe(false);
});

test('skipping the sample\'s sRGB profile gives exactly the pixels of converting through it', async () => {
  const ours = await decode(SAMPLE, DEFAULT_LIMITS);
  const converted = await sharp(SAMPLE).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer();
  expect(ours.data.length).toBe(converted.length);
  expect(Buffer.compare(Buffer.from(ours.data), converted)).toBe(0);
});

test('a Display P3 image is still converted to sRGB through its profile', async () => {
  // P3 pixel values read as if they were sRGB would be wrong: the decode must differ from ignoring the profile.
  const p3 = await SMALL.clone().withIccProfile('p3').jpeg({ quality: 95 }).toBuffer();
  const ours = await decode(p3, DEFAULT_LIMITS);
  const ignored = await sharp(p3, { ignoreIcc: true }).raw().toBuffer();
  let diff = 0;
  for (let i = 0; i < ignored.length; i++) diff += Math.abs(ours.data[i] - ignored[i]);
  expect(diff / ignored.length).toBeGreaterThan(1);
});
