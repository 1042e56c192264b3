/**
 * What a result is encoded as: `output: {format, quality, keep_metadata}` on a submission or a
 * batch. JPEG by default (the seed's results), at JPEG_QUALITY; PNG, WebP and AVIF by sharp.
 * Images are auto-oriented by their EXIF orientation when decoded, and results carry no
 * metadata unless keep_metadata is true, which keeps the source's ICC profile and EXIF
 * (orientation reset to 1, the pixels being upright) in a JPEG result.
 */
import type { Sharp } from 'sharp';
import { z } from 'zod';
import { customIssue, explain, jsonNumber } from '../core/validate';

export const OUTPUT_FORMATS = ['jpeg', 'png', 'webp', 'avif'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface OutputSpec {
  format: OutputFormat;
  /** 1-100; undefined: JPEG_QUALITY for JPEG, sharp's defaults for the others (PNG is lossless: quality is its compression effort). */
  quality?: number;
  keepMetadata: boolean;
}

export const DEFAULT_OUTPUT: OutputSpec = { format: 'jpeg', keepMetadata: false };

export const CONTENT_TYPES: Record<OutputFormat, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', avif: 'image/avif' };
export const EXTENSIONS: Record<OutputFormat, string> = { jpeg: 'jpg', png: 'png', webp: 'webp', avif: 'avif' };

const FormatSchema = explain(z.enum(OUTPUT_FORMATS).meta({ description: 'what the result is encoded as (default jpeg)' }), ({ raw }) => ({
  message: `output.format must be one of ${OUTPUT_FORMATS.join(', ')}; got ${JSON.stringify(raw)?.slice(0, 40)}`,
  details: { allowed: OUTPUT_FORMATS },
}));

/** The `output` field of a submission or a batch body. */
export const OutputSchema = explain(
  z
    .strictObject({
      format: FormatSchema.default('jpeg'),
      quality: jsonNumber(1, 100, { integer: true, description: 'lossy formats: 1 (smallest) to 100 (best); default JPEG_QUALITY for jpeg' }).optional(),
      keep_metadata: explain(z.boolean().meta({ description: 'keep the source ICC profile and EXIF (jpeg results only); default false: stripped' }), () => ({ message: 'output.keep_metadata must be true or false' })).default(false),
    })
    .superRefine((v, ctx) => {
      if (v.keep_metadata && v.format !== 'jpeg') {
        ctx.addIssue(customIssue(`output.keep_metadata is supported for format jpeg only; got format ${v.format}`, { path: ['keep_metadata'], field: 'output.keep_metadata' }));
      }
    })
    .transform((v): OutputSpec => ({ format: v.format, quality: v.quality, keepMetadata: v.keep_metadata }))
    .meta({ description: 'how the result is encoded (default: JPEG at JPEG_QUALITY, metadata stripped)' }),
  ({ issue, key }) => ({
    message: issue.code === 'unrecognized_keys' ? `unknown field output.${key}; allowed: format, quality, keep_metadata` : 'output must be an object {format, quality, keep_metadata}',
  }),
);

/** Encodes a sharp pipeline in a non-JPEG format. */
export function encodeAs(p: Sharp, spec: OutputSpec): Sharp {
  switch (spec.format) {
    case 'png':
      // Lossless: quality maps to zlib effort (higher quality, more effort).
      return p.png(spec.quality === undefined ? {} : { compressionLevel: Math.round(((100 - spec.quality) / 100) * 9) });
    case 'webp':
      return p.webp(spec.quality === undefined ? {} : { quality: spec.quality });
    case 'avif':
      return p.avif(spec.quality === undefined ? {} : { quality: spec.quality });
    case 'jpeg':
      throw new Error('JPEG is encoded by the pipeline itself');
  }
}

const SOI = 0xffd8;

/** APP1 (EXIF) and APP2 (ICC) segments of a JPEG, in order, with the EXIF orientation set to 1. */
export function metadataSegments(jpeg: Buffer): Buffer[] {
  const out: Buffer[] = [];
  if (jpeg.length < 4 || jpeg.readUInt16BE(0) !== SOI) return out;
  let i = 2;
  while (i + 4 <= jpeg.length && jpeg[i] === 0xff) {
    const marker = jpeg[i + 1];
    if (marker === 0xda || marker === 0xd9) break; // start of scan, end of image
    const len = jpeg.readUInt16BE(i + 2);
    if (len < 2 || i + 2 + len > jpeg.length) break;
    const seg = Buffer.from(jpeg.subarray(i, i + 2 + len));
    if (marker === 0xe1 && seg.subarray(4, 10).toString('latin1') === 'Exif\0\0') out.push(uprightExif(seg));
    else if (marker === 0xe2 && seg.subarray(4, 16).toString('latin1') === 'ICC_PROFILE\0') out.push(seg);
    i += 2 + len;
  }
  return out;
}

/** Sets IFD0's Orientation tag (0x0112) to 1 in an APP1 EXIF segment (a copy). */
function uprightExif(seg: Buffer): Buffer {
  const tiff = 10;
  if (seg.length < tiff + 8) return seg;
  const little = seg.toString('latin1', tiff, tiff + 2) === 'II';
  const u16 = (o: number) => (little ? seg.readUInt16LE(o) : seg.readUInt16BE(o));
  const u32 = (o: number) => (little ? seg.readUInt32LE(o) : seg.readUInt32BE(o));
  const ifd = tiff + u32(tiff + 4);
  if (ifd + 2 > seg.length) return seg;
  const count = u16(ifd);
  for (let k = 0; k < count; k++) {
    const entry = ifd + 2 + k * 12;
    if (entry + 12 > seg.length) break;
    if (u16(entry) === 0x0112) {
      if (little) seg.writeUInt16LE(1, entry + 8);
      else seg.writeUInt16BE(1, entry + 8);
    }
  }
  return seg;
}

/** A JPEG result with the source's metadata segments inserted after its SOI (and any JFIF APP0). */
export function withMetadata(result: Buffer, source: Buffer): Buffer {
  const segments = metadataSegments(source);
  if (segments.length === 0 || result.readUInt16BE(0) !== SOI) return result;
  let at = 2;
  if (result[2] === 0xff && result[3] === 0xe0) at = 4 + result.readUInt16BE(4);
  return Buffer.concat([result.subarray(0, at), ...segments, result.subarray(at)]);
}
