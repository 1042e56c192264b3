/**
 * One image through a chain of filters: decode once, each step over raw pixels (so the
 * request's order is the order applied — one sharp pipeline would reorder operations),
 * encode once. Runs the same in the API process and in pool workers.
 */
import { loadConfig, type Config } from '../core/config';
import { threadId } from 'node:worker_threads';
import sharp, { type Metadata, type Sharp } from 'sharp';
import { ImageRejectedError } from '../core/errors';
import { DEFAULT_OUTPUT, encodeAs, withMetadata, type OutputFormat, type OutputSpec } from './output';
import { round } from '../core/numbers';
import { isSrgbProfile } from './icc';
import { canDecode, decodeInto, encode, jpegTurbo, TurboDecodeError, type JpegCodec } from './jpeg-turbo';
import { FILTERS, toGrey, type FilterParams } from './registry';
import { copyOut, runOpenCv, type HeapRun, type OpenCvOp, type PixelWriter } from './opencv-executor';
import { rawInput, toRaw, type RawImage } from './raw';
import type { FilterStep } from './request';

// One libvips thread per image. Workers and pool threads already run one image per core, so
// more threads per image only contend. sharp picks one itself on glibc, but switches to one
// per core when MALLOC_ARENA_MAX is set, which IMAGE_PROCESS_ENV (lib/core/process-env.ts) does.
sharp.concurrency(1);

export interface ProcessLimits {
  maxInputPixels: number;
  jpegQuality: number;
  /** What the result is encoded as (lib/filters/output.ts); default JPEG at jpegQuality, no metadata. */
  output?: OutputSpec;
  /** Optimised Huffman tables: ~2% smaller files for ~3x the encode time (JPEG_OPTIMIZE_CODING). */
  jpegOptimizeCoding: boolean;
  /** Who decodes and encodes around OpenCV steps (JPEG_CODEC, lib/filters/jpeg-turbo.ts). */
  jpegCodec: JpegCodec;
}

/** What image processing takes from the configuration. */
export function processLimits({ maxInputPixels, jpegQuality, jpegOptimizeCoding, jpegCodec }: Config['processing']): ProcessLimits {
  return { maxInputPixels, jpegQuality, jpegOptimizeCoding, jpegCodec };
}

/** The configured defaults (MAX_INPUT_PIXELS, JPEG_QUALITY, JPEG_OPTIMIZE_CODING, JPEG_CODEC), for callers without a config of their own. */
export const DEFAULT_LIMITS: ProcessLimits = processLimits(loadConfig({}).processing);

export interface StepTiming {
  name: string;
  ms: number;
  /**
   * Work done in the same sharp pipeline as this filter: a sharp filter that comes first
   * shares the JPEG decode (and shrink-on-load), one that comes last shares the encode.
   */
  includes: ('decode' | 'encode')[];
}

export interface ProcessedImage {
  output: Buffer;
  width: number;
  height: number;
  channels: number;
  /** Separate decode/encode stages; 0 when fused into a filter's pipeline (see filters[].includes). */
  decode_ms: number;
  encode_ms: number;
  filters: StepTiming[];
  total_ms: number;
  thread_id: number;
  format: OutputFormat;
}

const ms = (t0: number) => round(performance.now() - t0);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

type EncodedImage = { data: Buffer; width: number; height: number; channels: number };
/** What a heap run hands back: pixels for the next step, or the finished JPEG. */
type HeapResult = { raw: RawImage } | { jpeg: EncodedImage };

/** The header only: what decides how the image is decoded. */
function inspect(input: Buffer) {
  return sharp(input).metadata();
}

async function decoder(input: Buffer, limits: ProcessLimits, meta?: Metadata): Promise<Sharp> {
  // An embedded sRGB profile is skipped (the same pixels, ~60 ms less CPU at 4K: lib/filters/icc.ts).
  const { icc } = meta ?? (await inspect(input));
  const ignoreIcc = icc !== undefined && isSrgbProfile(icc);
  // failOn 'error' refuses truncated files; limitInputPixels refuses decompression bombs from the header, before decoding.
  return sharp(input, { limitInputPixels: limits.maxInputPixels, failOn: 'error', ignoreIcc }).rotate();
}

async function decoding<T>(limits: ProcessLimits, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    const msg = (e as Error).message;
    if (/pixel limit/i.test(msg)) throw new ImageRejectedError(`image has more than ${limits.maxInputPixels} pixels; refused without decoding`);
    throw new ImageRejectedError(`image could not be decoded: ${msg}`);
  }
}

/** Decoded pixels as 3-channel sRGB (alpha dropped: the output is JPEG). */
function rawPixels(p: Sharp): Promise<RawImage> {
  return toRaw(p.removeAlpha().toColourspace('srgb'));
}

export function decode(input: Buffer, limits: ProcessLimits, meta?: Metadata): Promise<RawImage> {
  return decoding(limits, async () => rawPixels(await decoder(input, limits, meta)));
}

/**
 * Grey in, grey out: sharp writes its output as sRGB unless told otherwise, and some
 * operations (convolve) lose the input's B_W interpretation on the way.
 */
function keepGrey(p: Sharp, channels: number): Sharp {
  return channels === 1 ? p.toColourspace('b-w') : p;
}

type JpegSettings = Pick<ProcessLimits, 'jpegQuality' | 'jpegOptimizeCoding'>;

function jpeg(p: Sharp, channels: number, settings: JpegSettings): Sharp {
  return keepGrey(p, channels).jpeg({ quality: settings.jpegQuality, optimiseCoding: settings.jpegOptimizeCoding });
}

export async function encodeJpeg(img: RawImage, settings: JpegSettings): Promise<Buffer> {
  return jpeg(rawInput(img), img.channels, settings).toBuffer();
}

/** The result's encoder: JPEG with the pipeline's settings, or another format by sharp. */
function encoderFor(p: Sharp, channels: number, settings: JpegSettings, out: OutputSpec): Sharp {
  return out.format === 'jpeg' ? jpeg(p, channels, settings) : encodeAs(keepGrey(p, channels), out);
}

function opencvOp(step: FilterStep): OpenCvOp {
  return (cv, src, track) => FILTERS[step.name].opencvOp!(cv, src, step.params, track);
}

/**
 * A run of OpenCV steps that ends in edges keeps only the grey image, so the sharpen steps
 * before it can work on one channel instead of three (~24 ms less at 4K, docs/benchmarks.md).
 * Sharpening and the grey conversion are both linear and commute, except where sharpen
 * saturates a channel: 99.75% of the sample's edge-map pixels come out identical
 * (tests/unit/filter-reference.test.ts holds it to ≥ 98%).
 */
export function greyFirst(run: readonly FilterStep[]): boolean {
  return run.length > 1 && run[run.length - 1].name === 'edges' && run.slice(0, -1).every((s) => s.name === 'sharpen');
}

/** The run's operations; with greyFirst, the conversion counts to the first step's time. */
function opencvOps(run: readonly FilterStep[]): OpenCvOp[] {
  const ops = run.map(opencvOp);
  if (greyFirst(run)) {
    const first = ops[0];
    ops[0] = (cv, src, track) => first(cv, toGrey(cv, src, track), track);
  }
  return ops;
}

/**
 * One filter over raw pixels, by the same operations processImage runs (without the decode
 * and encode it shares with sharp filters at either end): what the filter tests measure.
 */
export async function applyFilter(img: RawImage, name: string, params: FilterParams): Promise<RawImage> {
  const def = FILTERS[name];
  if (def.sharpOp) return toRaw(keepGrey(def.sharpOp(rawInput(img), params), img.channels));
  return (await runOpenCv(img, [opencvOp({ name, params })])).output;
}

/** Whether a run of OpenCV steps needs only the grey image from the start. */
function startsGrey(run: readonly FilterStep[]): boolean {
  return run[0].name === 'edges' || greyFirst(run);
}

/**
 * How the input gets into the WASM heap for an OpenCV run that starts the chain: libjpeg-turbo
 * writes a plain JPEG there itself (grey when the run starts grey); anything else, or
 * JPEG_CODEC=sharp, is decoded by sharp and copied in. `meta` is the header, read once.
 */
async function heapSource(input: Buffer, run: readonly FilterStep[], limits: ProcessLimits): Promise<{ writer?: PixelWriter; meta: Metadata }> {
  const turbo = jpegTurbo(limits.jpegCodec);
  const meta = await decoding(limits, () => inspect(input));
  if (!turbo || !canDecode(meta, limits.maxInputPixels)) return { meta };
  const channels = startsGrey(run) ? 1 : 3;
  return { meta, writer: { width: meta.width!, height: meta.height!, channels, writeInto: (target) => decodeInto(turbo, input, target, channels) } };
}

/** libjpeg-turbo encodes a run's result straight from the heap when nothing follows it (not with optimised Huffman tables, which it does not write). */
function heapEncoder(limits: ProcessLimits): ((view: RawImage) => Buffer) | undefined {
  const turbo = jpegTurbo(limits.jpegCodec);
  if (!turbo || limits.jpegOptimizeCoding) return undefined;
  return (view) => encode(turbo, view, limits.jpegQuality);
}

/**
 * Decode once, apply each step over raw pixels (so the request's order is the order
 * applied: one sharp pipeline would reorder operations), encode once. A sharp filter at
 * either end shares the decode or encode pipeline, so a single sharp filter costs what
 * the plain sharp call does.
 */
/** processImage stopped at a filter boundary because its signal was aborted (a cancel, a deadline). */
export class StepsAbortedError extends Error {
  constructor(readonly reason: unknown) {
    super('stopped at a filter boundary');
  }
}

/**
 * `signal`: checked between steps (a run of OpenCV steps is one step here, done in one trip
 * into the WASM heap); once aborted, the next step does not start.
 */
export async function processImage(input: Buffer, steps: FilterStep[], baseLimits: ProcessLimits = DEFAULT_LIMITS, signal?: AbortSignal): Promise<ProcessedImage> {
  const start = performance.now();
  const spec = baseLimits.output ?? DEFAULT_OUTPUT;
  const limits = spec.quality === undefined ? baseLimits : { ...baseLimits, jpegQuality: spec.quality };
  let img: RawImage | undefined;
  let decodeMs = 0;
  let encodeMs = 0;
  let encoded: EncodedImage | undefined;
  const filters: StepTiming[] = [];

  for (let i = 0; i < steps.length; i++) {
    if (i > 0 && signal?.aborted) throw new StepsAbortedError(signal.reason);
    const step = steps[i];
    const def = FILTERS[step.name];
    const last = i === steps.length - 1;
    const t = performance.now();
    const includes: StepTiming['includes'] = [];
    if (def.sharpOp) {
      const fromInput = img === undefined;
      if (fromInput) includes.push('decode');
      const channels = img?.channels ?? 3;
      const run = async () => {
        const p = def.sharpOp!(img ? rawInput(img) : await decoder(input, limits), step.params);
        if (!last) return { raw: fromInput ? await rawPixels(p) : await toRaw(keepGrey(p, channels)) };
        const { data, info } = await encoderFor(p, channels, limits, spec).toBuffer({ resolveWithObject: true });
        return { jpeg: { data, width: info.width, height: info.height, channels: info.channels } };
      };
      const out = fromInput ? await decoding(limits, run) : await run();
      if (out.raw) img = out.raw;
      else {
        encoded = out.jpeg;
        includes.push('encode');
      }
    } else {
      // This step and the OpenCV steps right after it run in one trip into the WASM heap.
      let j = i + 1;
      while (j < steps.length && FILTERS[steps[j].name].opencvOp) j++;
      const run = steps.slice(i, j);
      const ops = opencvOps(run);
      const encoder = j === steps.length && spec.format === 'jpeg' ? heapEncoder(limits) : undefined;
      const readOut = (view: RawImage): HeapResult => (encoder ? { jpeg: { ...view, data: encoder(view) } } : { raw: copyOut(view) });
      let heap: HeapRun<HeapResult> | undefined;
      if (!img) {
        const { writer, meta } = await heapSource(input, run, limits);
        if (writer) {
          try {
            heap = await runOpenCv(writer, ops, readOut);
            // The header read, and libjpeg-turbo's decode into the heap.
            decodeMs = round(performance.now() - t - sum(heap.opMs) - heap.readMs);
          } catch (e) {
            // libjpeg-turbo saw something wrong with the file: sharp decides, by its failOn rules.
            if (!(e instanceof TurboDecodeError)) throw e;
          }
        }
        if (!heap) {
          img = await decode(input, limits, meta);
          decodeMs = ms(t);
        }
      }
      let opMs: number[];
      if (heap) opMs = heap.opMs;
      else {
        heap = await runOpenCv(img!, ops, readOut);
        // The copy in counts to the first step.
        opMs = heap.opMs.map((m, k) => (k === 0 ? m + heap!.fillMs : m));
      }
      if ('jpeg' in heap.output) {
        encoded = heap.output.jpeg;
        encodeMs = round(heap.readMs);
      } else {
        img = heap.output.raw;
        // The copy out counts to the last step.
        opMs[opMs.length - 1] += heap.readMs;
      }
      for (const [k, stepMs] of opMs.entries()) filters.push({ name: run[k].name, ms: round(stepMs), includes: [] });
      i = j - 1;
      continue;
    }
    filters.push({ name: step.name, ms: ms(t), includes });
  }
  if (!encoded) {
    const t = performance.now();
    const data = await encoderFor(rawInput(img!), img!.channels, limits, spec).toBuffer();
    encodeMs = ms(t);
    encoded = { data, width: img!.width, height: img!.height, channels: img!.channels };
  }
  return {
    output: spec.keepMetadata ? withMetadata(encoded.data, input) : encoded.data,
    format: spec.format,
    width: encoded.width,
    height: encoded.height,
    channels: encoded.channels,
    decode_ms: decodeMs,
    encode_ms: encodeMs,
    filters,
    total_ms: ms(start),
    thread_id: threadId,
  };
}
