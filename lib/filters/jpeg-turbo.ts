/**
 * libjpeg-turbo called directly (npm @julusian/jpeg-turbo 2.x: prebuilt N-API 7 bindings, so
 * Node 20 and 22 alike) for the chains that start or end in OpenCV. It decodes a
 * JPEG straight into the WASM heap, and to grey when the chain only needs grey (a colour JPEG
 * stores luma beside chroma: no chroma upsampling, no colour conversion, a third of the
 * bytes), and encodes the result from there: no sharp pipeline, no copies of the pixels.
 * At 4K that takes ~25-50% off sharpen, edges and [sharpen, edges] (docs/benchmarks.md).
 *
 * What it changes: the binding hard-codes libjpeg's fast integer DCT (TJFLAG_FASTDCT), so a
 * decoded pixel differs from sharp's or cv2's accurate decode by up to 3 levels (~60% of
 * values differ at all), and its grey is the file's luma rather than cvtColor's rounding of
 * decoded RGB. On the sample photos sharpen's output stays within 40.4-40.8 dB PSNR of the
 * sharp path's and edge maps 99.7-99.8% identical; tests/unit/filter-reference.test.ts holds
 * it to ≥ 40 dB and ≥ 98%. JPEG_CODEC=sharp decodes and encodes with sharp instead.
 *
 * Only plain JPEGs take this path (pipeline.ts asks `canDecode`): an EXIF rotation, a colour
 * profile other than sRGB, CMYK, more than 8 bits or more pixels than MAX_INPUT_PIXELS go
 * to sharp, which rotates, converts or refuses them; so does a file libjpeg-turbo reports
 * anything wrong with (even a warning), so sharp's failOn rules decide what is rejected.
 */
import type { Metadata } from 'sharp';
import { isSrgbProfile } from './icc';
import type { RawImage } from './raw';

interface Binding {
  FORMAT_RGB: number;
  FORMAT_GRAY: number;
  SAMP_420: number;
  SAMP_GRAY: number;
  decompressSync(image: Buffer, out: Buffer, options: { format: number }): { width: number; height: number; size: number };
  compressSync(raw: Buffer, out: Buffer, options: { format: number; width: number; height: number; subsampling: number; quality: number }): Buffer;
  bufferSize(options: { width: number; height: number; subsampling: number }): number;
}

let binding: Binding | null | undefined;

export type JpegCodec = 'libjpeg-turbo' | 'sharp';

/** The binding, or undefined for JPEG_CODEC=sharp or where it does not load (a platform without a prebuild: sharp then does all of it). */
export function jpegTurbo(codec: JpegCodec): Binding | undefined {
  if (codec !== 'libjpeg-turbo') return undefined;
  if (binding === undefined) {
    try {
      binding = require('@julusian/jpeg-turbo') as Binding;
    } catch (e) {
      binding = null;
      console.warn(`JPEG_CODEC=libjpeg-turbo: @julusian/jpeg-turbo does not load here (${(e as Error).message.split('\n')[0]}); sharp decodes and encodes instead`);
    }
  }
  return binding ?? undefined;
}

/** A plain 8-bit JPEG, upright, sRGB or grey, within the pixel limit: what libjpeg-turbo decodes as sharp would. */
export function canDecode(meta: Metadata, maxInputPixels: number): boolean {
  const { format, depth, orientation, space, channels, icc, width, height } = meta;
  return (
    format === 'jpeg' &&
    depth === 'uchar' &&
    (orientation ?? 1) === 1 &&
    ((space === 'srgb' && channels === 3) || (space === 'b-w' && channels === 1)) &&
    (icc === undefined || isSrgbProfile(icc)) &&
    width !== undefined &&
    height !== undefined &&
    width * height <= maxInputPixels
  );
}

/** Thrown when libjpeg-turbo reports an error or a warning: the caller decodes with sharp instead. */
export class TurboDecodeError extends Error {}

/** Decodes `input` into `target` (exactly width x height x channels bytes, e.g. a view of the WASM heap). */
export function decodeInto(turbo: Binding, input: Buffer, target: Buffer, channels: 1 | 3): void {
  try {
    turbo.decompressSync(input, target, { format: channels === 1 ? turbo.FORMAT_GRAY : turbo.FORMAT_RGB });
  } catch (e) {
    throw new TurboDecodeError((e as Error).message, { cause: e });
  }
}

/**
 * Where this thread's encodes write: libjpeg-turbo needs room for its worst case (15.8 MiB for
 * a grey 4K frame, 23.7 MiB in colour, whatever the result's size), and a fresh buffer that
 * size per image was what set off most of a worker's full garbage collections (V8 collects on
 * external memory growth: one mark-compact every two 4K images). Encodes are synchronous, so
 * one per thread is enough. Kept up to SCRATCH_KEEP_MAX (a 4K frame in colour): a larger image
 * gets a buffer of its own for that encode, so one 50-megapixel upload does not leave a
 * worker holding ~140 MiB for good.
 */
const SCRATCH_KEEP_MAX = 24 * 2 ** 20;
let scratch: Buffer | undefined;

function outputBuffer(need: number): Buffer {
  if (scratch && scratch.length >= need) return scratch;
  const buf = Buffer.allocUnsafeSlow(need);
  if (need <= SCRATCH_KEEP_MAX) scratch = buf;
  return buf;
}

/** Baseline JPEG, 4:2:0 for colour (sharp's and cv2's default), standard Huffman tables. */
export function encode(turbo: Binding, img: RawImage, quality: number): Buffer {
  const grey = img.channels === 1;
  const options = { format: grey ? turbo.FORMAT_GRAY : turbo.FORMAT_RGB, width: img.width, height: img.height, subsampling: grey ? turbo.SAMP_GRAY : turbo.SAMP_420, quality };
  // A copy to its own size: the result outlives this call (the next encode reuses the scratch).
  return Buffer.from(turbo.compressSync(img.data, outputBuffer(turbo.bufferSize(options)), options));
}
