/**
 * The filter registry: each filter's library, parameters (with defaults and ranges) and
 * operation (a sharp pipeline step or an OpenCV operation on a Mat; lib/filters/pipeline.ts
 * runs them, lib/filters/opencv-executor.ts runs the OpenCV ones). Requests are validated against it, so every error names
 * the filter, the parameter and the allowed range.
 */
import type { FitEnum, Sharp } from 'sharp';
import { ValidationError } from '../core/errors';
import type { OpenCv } from './opencv';

export type ParamValue = number | string | boolean;
export type FilterParams = Record<string, ParamValue>;

export type ParamSpec =
  | { kind: 'number'; min: number; max: number; default: number; integer?: boolean; description: string }
  | { kind: 'enum'; values: readonly string[]; default: string; description: string }
  | { kind: 'boolean'; default: boolean; description: string };

export interface FilterDef {
  name: string;
  library: 'sharp' | 'opencv';
  /** The seed's classification: sharp work leaves the JS thread, OpenCV.js (WASM) does not. */
  bound: 'io' | 'cpu';
  description: string;
  params: Record<string, ParamSpec>;
  check?: (p: FilterParams) => void;
  /** sharp filters: the operation, added to whatever pipeline the image is in (so decode/encode can share it). */
  sharpOp?: (pipeline: Sharp, p: FilterParams) => Sharp;
  /** OpenCV filters: the operation on a Mat, so consecutive OpenCV steps can share one trip into the WASM heap. */
  opencvOp?: (cv: OpenCv, src: any, p: FilterParams, track: <T>(m: T) => T) => { mat: any; channels: 1 | 3 };
}

/** A filter libvips runs (sharp): its work happens on libuv's threadpool, off the JS thread. */
function sharpFilter(def: Omit<FilterDef, 'library' | 'bound'> & { sharpOp: NonNullable<FilterDef['sharpOp']> }): FilterDef {
  return { ...def, library: 'sharp', bound: 'io' };
}

export const MAX_OUTPUT_PIXELS = 50_000_000;
const RESIZE_FITS = ['cover', 'contain', 'fill', 'inside', 'outside'] as const;

/** A filter OpenCV.js runs: WebAssembly on the JS thread, so only more threads overlap it. */
function opencvFilter(def: Omit<FilterDef, 'library' | 'bound'> & { opencvOp: NonNullable<FilterDef['opencvOp']> }): FilterDef {
  return { ...def, library: 'opencv', bound: 'cpu' };
}

/** The fixed-point denominator of brightness's factor: 1/4096 steps. */
const BRIGHTNESS_SCALE = 4096;

/** The single grey channel of an RGB Mat (a grey Mat as it is): what edges works on. */
export function toGrey(cv: OpenCv, src: any, track: <T>(m: T) => T): any {
  if (src.channels() !== 3) return src;
  const grey = track(new cv.Mat());
  cv.cvtColor(src, grey, cv.COLOR_RGB2GRAY);
  return grey;
}

export const FILTERS: Record<string, FilterDef> = {
  resize: sharpFilter({
    name: 'resize',
    description: 'resize to width x height (sharp, Lanczos3)',
    params: {
      width: { kind: 'number', min: 1, max: 8192, default: 800, integer: true, description: 'output width in pixels' },
      height: { kind: 'number', min: 1, max: 8192, default: 600, integer: true, description: 'output height in pixels' },
      fit: { kind: 'enum', values: RESIZE_FITS, default: 'cover', description: 'cover crops to the exact size; fill stretches; contain letterboxes; inside/outside keep the aspect ratio within/around the box' },
    },
    check: (p) => {
      if ((p.width as number) * (p.height as number) > MAX_OUTPUT_PIXELS) {
        throw new ValidationError(`filter_params.resize: width x height must be at most ${MAX_OUTPUT_PIXELS} pixels; got ${p.width}x${p.height}`, {
          field: 'filter_params.resize',
        });
      }
    },
    sharpOp: (pipeline, p) => pipeline.resize(p.width as number, p.height as number, { fit: p.fit as keyof FitEnum }),
  }),
  blur: sharpFilter({
    name: 'blur',
    description: 'Gaussian blur (sharp)',
    params: { radius: { kind: 'number', min: 0.3, max: 100, default: 3.0, description: 'Gaussian sigma in pixels' } },
    sharpOp: (pipeline, p) => pipeline.blur(p.radius as number),
  }),
  brightness: sharpFilter({
    name: 'brightness',
    description: 'multiply every channel by factor (sharp; 1 = unchanged, values clamp at 255)',
    params: { factor: { kind: 'number', min: 0, max: 10, default: 1.5, description: 'brightness multiplier' } },
    // A multiply, written as a 3x3 integer convolution with only the centre weight: libvips runs
    // that on its vectorised integer path, ~40% faster at 4K than linear()'s float arithmetic
    // (itself ~3.5x faster than modulate()). Same pixels as linear() for factors such as 0.5,
    // 1.5 or 2; others differ by at most one level on < 0.5% of pixels (docs/benchmarks.md).
    sharpOp: (pipeline, p) => {
      const weight = Math.round((p.factor as number) * BRIGHTNESS_SCALE);
      return pipeline.convolve({ width: 3, height: 3, kernel: [0, 0, 0, 0, weight, 0, 0, 0, 0], scale: BRIGHTNESS_SCALE });
    },
  }),
  sharpen: opencvFilter({
    name: 'sharpen',
    description: 'sharpen with a 3x3 Laplacian kernel (OpenCV filter2D)',
    params: { strength: { kind: 'number', min: 0, max: 10, default: 1.0, description: 'kernel amount: centre 1+4s, neighbours -s' } },
    // OpenCV's filter2D in the SIMD build runs the kernel ~3x faster than a libvips convolve,
    // and beside edges it shares one trip into the WASM heap; [sharpen, edges] at 4K takes
    // ~200 ms this way against ~280 ms with sharpen as a libvips convolve.
    opencvOp: (cv, src, p, track) => {
      const s = p.strength as number;
      const kernel = track(cv.matFromArray(3, 3, cv.CV_32F, [0, -s, 0, -s, 1 + 4 * s, -s, 0, -s, 0]));
      const dst = track(new cv.Mat());
      cv.filter2D(src, dst, cv.CV_8U, kernel, new cv.Point(-1, -1), 0, cv.BORDER_DEFAULT);
      return { mat: dst, channels: src.channels() === 1 ? 1 : 3 };
    },
  }),
  edges: opencvFilter({
    name: 'edges',
    description: 'Canny edge detection on the grey image (OpenCV); white edges on black',
    params: {
      low_threshold: { kind: 'number', min: 0, max: 1000, default: 50, description: 'Canny hysteresis low threshold' },
      high_threshold: { kind: 'number', min: 0, max: 1000, default: 150, description: 'Canny hysteresis high threshold' },
      pre_blur: { kind: 'boolean', default: true, description: '5x5 Gaussian blur before Canny to suppress noise' },
    },
    check: (p) => {
      if ((p.low_threshold as number) > (p.high_threshold as number)) {
        throw new ValidationError(
          `filter_params.edges.low_threshold (${p.low_threshold}) must not exceed high_threshold (${p.high_threshold})`,
          { field: 'filter_params.edges.low_threshold' },
        );
      }
    },
    opencvOp: (cv, src, p, track) => {
      let grey = toGrey(cv, src, track);
      if (p.pre_blur) {
        const blurred = track(new cv.Mat());
        cv.GaussianBlur(grey, blurred, new cv.Size(5, 5), 0, 0, cv.BORDER_DEFAULT);
        grey = blurred;
      }
      const edges = track(new cv.Mat());
      cv.Canny(grey, edges, p.low_threshold as number, p.high_threshold as number);
      return { mat: edges, channels: 1 };
    },
  }),
};

export const FILTER_NAMES = Object.keys(FILTERS);

export function describeFilters() {
  return Object.values(FILTERS).map((f) => ({
    name: f.name,
    library: f.library,
    bound: f.bound,
    description: f.description,
    params: Object.fromEntries(
      Object.entries(f.params).map(([k, s]) => [
        k,
        s.kind === 'number'
          ? { type: s.integer ? 'integer' : 'number', min: s.min, max: s.max, default: s.default, description: s.description }
          : s.kind === 'enum'
            ? { type: 'string', values: s.values, default: s.default, description: s.description }
            : { type: 'boolean', default: s.default, description: s.description },
      ]),
    ),
  }));
}
