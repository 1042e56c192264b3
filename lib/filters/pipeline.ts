/**
 * One image through a chain of filters: decode once, each step over raw pixels (so the
 * request's order is the order applied — one sharp pipeline would reorder operations),
 * encode once. Runs the same in the API process and in pool workers.
 */
import { threadId } from 'node:worker_threads';
import sharp, { type FitEnum, type Sharp } from 'sharp';
import { ImageRejectedError } from '../errors';
import { FILTERS, type RawImage } from './registry';
import type { FilterStep } from './request';

export interface ProcessLimits {
  maxInputPixels: number;
  jpegQuality: number;
}

export const DEFAULT_LIMITS: ProcessLimits = { maxInputPixels: 50_000_000, jpegQuality: 90 };

export interface StepTiming {
  name: string;
  ms: number;
  /** A leading resize is done while decoding (JPEG shrink-on-load); its time is in decode_ms. */
  fused_with_decode?: boolean;
}

export interface ProcessedImage {
  output: Buffer;
  width: number;
  height: number;
  channels: number;
  decode_ms: number;
  encode_ms: number;
  filters: StepTiming[];
  total_ms: number;
  thread_id: number;
}

const ms = (t0: number) => Math.round((performance.now() - t0) * 10) / 10;

export async function decode(input: Buffer, limits: ProcessLimits, leadingResize?: FilterStep): Promise<RawImage> {
  try {
    // failOn 'error' refuses truncated files; limitInputPixels refuses decompression bombs from the header, before decoding.
    let p = sharp(input, { limitInputPixels: limits.maxInputPixels, failOn: 'error' }).rotate();
    if (leadingResize) {
      const { width, height, fit } = leadingResize.params;
      p = p.resize(width as number, height as number, { fit: fit as keyof FitEnum });
    }
    const { data, info } = await p.removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels: info.channels === 1 ? 1 : 3 };
  } catch (e) {
    const msg = (e as Error).message;
    if (/pixel limit/i.test(msg)) throw new ImageRejectedError(`image has more than ${limits.maxInputPixels} pixels; refused without decoding`);
    throw new ImageRejectedError(`image could not be decoded: ${msg}`);
  }
}

export async function encodeJpeg(img: RawImage, quality: number): Promise<Buffer> {
  const p = sharp(img.data, { raw: { width: img.width, height: img.height, channels: img.channels } });
  return (img.channels === 1 ? p.toColourspace('b-w') : p).jpeg({ quality }).toBuffer();
}

export async function processImage(input: Buffer, steps: FilterStep[], limits: ProcessLimits = DEFAULT_LIMITS): Promise<ProcessedImage> {
  const start = performance.now();
  const fuse = steps[0]?.name === 'resize';
  let t = performance.now();
  let img = await decode(input, limits, fuse ? steps[0] : undefined);
  const decodeMs = ms(t);
  const filters: StepTiming[] = fuse ? [{ name: 'resize', ms: 0, fused_with_decode: true }] : [];
  for (const step of fuse ? steps.slice(1) : steps) {
    t = performance.now();
    img = await FILTERS[step.name].apply(img, step.params);
    filters.push({ name: step.name, ms: ms(t) });
  }
  t = performance.now();
  const output = await encodeJpeg(img, limits.jpegQuality);
  return {
    output,
    width: img.width,
    height: img.height,
    channels: img.channels,
    decode_ms: decodeMs,
    encode_ms: ms(t),
    filters,
    total_ms: ms(start),
    thread_id: threadId,
  };
}
