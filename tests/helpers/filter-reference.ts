/**
 * Reference outputs of the CPU-bound filters on the 4K sample, so a faster implementation can
 * be checked against the stored pictures of the current filters: the edge maps in full
 * (binary, so a lossless PNG is small) and a representative crop of sharpen.
 * tests/helpers/regenerate-filter-references.ts writes them; tests/unit/filter-reference.test.ts compares.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { processImage } from '../../lib/filters/pipeline';
import { parseFilterSteps } from '../../lib/filters/request';

export const REFERENCE_DIR = path.join(__dirname, '..', 'fixtures', 'filter-reference');
export const SAMPLE_4K = readFileSync(path.join(__dirname, '..', '..', 'static', 'sample_4k.jpg'));
/** A 512x512 crop with sky, horizon and detail: where sharpen's differences would show. */
export const SHARPEN_CROP = { left: 1664, top: 824, width: 512, height: 512 };

export interface ReferenceCase {
  file: string;
  filters: string[];
  kind: 'edges' | 'sharpen';
}

export const REFERENCE_CASES: ReferenceCase[] = [
  { file: 'sharpen-crop.png', filters: ['sharpen'], kind: 'sharpen' },
  { file: 'edges.png', filters: ['edges'], kind: 'edges' },
  { file: 'sharpen-edges.png', filters: ['sharpen', 'edges'], kind: 'edges' },
];

/**
 * What a case's stored reference holds, from today's processImage output (JPEG, decoded):
 * edge maps thresholded back to 0/255 (JPEG rings around the edges), sharpen as the crop.
 */
export async function referencePixels(c: ReferenceCase): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  const out = await processImage(SAMPLE_4K, parseFilterSteps(c.filters, {}));
  let p = sharp(out.output);
  p = c.kind === 'edges' ? p.toColourspace('b-w').threshold(128) : p.extract(SHARPEN_CROP).removeAlpha();
  const { data, info } = await p.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

export async function readReference(c: ReferenceCase) {
  // The edge maps are stored as 2-colour palette PNGs: read them back as one grey channel.
  let p = sharp(path.join(REFERENCE_DIR, c.file));
  if (c.kind === 'edges') p = p.extractChannel(0);
  const { data, info } = await p.raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** Peak signal-to-noise ratio of two 8-bit buffers, in dB (Infinity when identical). */
export function psnr(a: Buffer, b: Buffer): number {
  let se = 0;
  for (let i = 0; i < a.length; i++) se += (a[i] - b[i]) ** 2;
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255 * a.length) / se);
}
