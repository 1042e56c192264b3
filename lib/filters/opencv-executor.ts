/** Runs OpenCV.js operations over raw pixels, keeping the WASM heap tidy. */
import { FilterCrashedError, FilterFailedError } from '../core/errors';
import { loadOpenCv, opencvErrorMessage, type OpenCv } from './opencv';
import type { RawImage } from './raw';

/** One OpenCV operation on a Mat in the WASM heap; `track` registers Mats to delete afterwards. */
export type OpenCvOp = (cv: OpenCv, src: any, track: <T>(m: T) => T) => { mat: any; channels: 1 | 3 };

/** Pixels a decoder writes straight into the WASM heap (`target`: width x height x channels bytes). */
export interface PixelWriter {
  width: number;
  height: number;
  channels: 1 | 3;
  writeInto(target: Buffer): void;
}

export type PixelSource = RawImage | PixelWriter;

export interface HeapRun<T> {
  output: T;
  /** Putting the pixels in the heap: the copy of a RawImage, or the writer's decode. */
  fillMs: number;
  opMs: number[];
  /** `readOut`: the copy out, or an encode. */
  readMs: number;
}

/** A Buffer over a Mat's pixels in the WASM heap: valid until the heap grows or the Mat is deleted. */
function heapView(mat: any): Buffer {
  const d: Uint8Array = mat.data;
  return Buffer.from(d.buffer, d.byteOffset, d.length);
}

/** The default readOut: a copy, since the heap view dies with the Mat. */
export const copyOut = (view: RawImage): RawImage => ({ ...view, data: Buffer.from(view.data) });

/**
 * Runs OpenCV operations one after another on Mats that stay in the WASM heap: one trip in,
 * one out, every Mat deleted. A chain like [sharpen, edges] thus skips a 25 MB copy out and
 * back in at 4K (~12% of its time). `readOut` gets the last Mat's pixels as a view into the
 * heap, valid only during the call (copy them, or encode them there).
 * A writer's errors pass through as they are (the caller may decode another way); an
 * operation's become FilterFailedError (a cv::Exception) or FilterCrashedError.
 */
export async function runOpenCv<T = RawImage>(
  source: PixelSource,
  ops: OpenCvOp[],
  readOut: (view: RawImage) => T = copyOut as (view: RawImage) => T,
): Promise<HeapRun<T>> {
  const { cv } = await loadOpenCv();
  const mats: any[] = [];
  const track = <T>(m: T): T => {
    mats.push(m);
    return m;
  };
  try {
    let t = performance.now();
    let cur = track(new cv.Mat(source.height, source.width, source.channels === 3 ? cv.CV_8UC3 : cv.CV_8UC1));
    if ('writeInto' in source) source.writeInto(heapView(cur));
    else cur.data.set(source.data);
    const fillMs = performance.now() - t;
    let channels = source.channels;
    const opMs: number[] = [];
    try {
      for (const op of ops) {
        t = performance.now();
        ({ mat: cur, channels } = op(cv, cur, track));
        opMs.push(performance.now() - t);
      }
    } catch (e) {
      // A thrown number is a cv::Exception: deterministic for these pixels and parameters.
      // Anything else (the WASM heap failing to grow, a bug) may pass on another try.
      if (typeof e === 'number') throw new FilterFailedError(`OpenCV failed: ${opencvErrorMessage(cv, e)}`);
      throw new FilterCrashedError(`OpenCV failed: ${opencvErrorMessage(cv, e)}`, { cause: e });
    }
    t = performance.now();
    const output = readOut({ data: heapView(cur), width: source.width, height: source.height, channels });
    return { output, fillMs, opMs, readMs: performance.now() - t };
  } finally {
    for (const m of mats) m.delete();
  }
}
