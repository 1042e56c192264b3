/**
 * Loads OpenCV.js once per thread, defusing its traps. Two builds (OPENCV_BUILD):
 * - `simd` (default): OpenCV 4.6.0 with WebAssembly SIMD, core + imgproc only, built by
 *   scripts/build-opencv-simd.sh and committed as vendor/opencv-simd/opencv_js.js (2.6 MB).
 *   At 4K it runs GaussianBlur, Canny and filter2D 3-4x faster than @techstark with identical
 *   output (docs/benchmarks.md). Its file is checked against SIMD_BUILD_SHA256
 *   before it runs.
 * - `techstark`: @techstark/opencv-js 4.12.0-release.1 (scalar WASM, 10.9 MB), the fallback.
 * Traps (measured with @techstark; the SIMD build's emscripten 3.1.6 has the second one too):
 * - @techstark's module object is a self-resolving thenable: awaiting or resolving it spins
 *   forever, so `then` is deleted before it goes near a promise and callers get it wrapped;
 * - on load both install process-wide `unhandledRejection` and `uncaughtException` handlers
 *   (an unrelated rejection would abort the process); they are removed again;
 * - their errors are bare numbers; `opencvErrorMessage` turns them into text.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { config } from '../core/config';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type OpenCv = any;

/** '@techstark' is the npm package; `{ path }` an emscripten MODULARIZE build (factory export). */
export type OpenCvBuild = 'techstark' | { path: string; sha256?: string };

/** The committed build's digest: a changed or truncated file must not run in its place. */
export const SIMD_BUILD_SHA256 = '8677251fcd6f78bd79b3396cc93b29b0282a952546a5e1434d7184d246bbbb94';
const SIMD_BUILD_FILE = path.join('vendor', 'opencv-simd', 'opencv_js.js');

/**
 * Where vendor/opencv-simd is: the nearest ancestor of this file that holds it (the repository
 * from lib/filters, the package root from a bundled handlers/*.js).
 */
export function simdBuildPath(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const p = path.join(dir, SIMD_BUILD_FILE);
    if (existsSync(p)) return p;
    if (path.dirname(dir) === dir) throw new Error(`OPENCV_BUILD=simd: ${SIMD_BUILD_FILE} not found above ${__dirname}`);
  }
}

let loading: Promise<{ cv: OpenCv }> | undefined;

export function loadOpenCv(): Promise<{ cv: OpenCv }> {
  loading ??= (async () => {
    const build: OpenCvBuild = config().processing.opencvBuild === 'simd' ? { path: simdBuildPath(), sha256: SIMD_BUILD_SHA256 } : 'techstark';
    return { cv: await loadOpenCvBuild(build) };
  })();
  return loading;
}

/** Loads one build, uncached (a bench may hold several side by side). */
export function loadOpenCvBuild(build: OpenCvBuild): Promise<OpenCv> {
  return new Promise((resolve, reject) => {
    const events = ['unhandledRejection', 'uncaughtException'] as const;
    const before = new Map(events.map((e) => [e, new Set(process.listeners(e as any))]));
    const dropNewHandlers = () => {
      for (const e of events) {
        for (const l of process.listeners(e as any)) if (!before.get(e)!.has(l)) process.removeListener(e, l as any);
      }
    };
    let cv: OpenCv;
    let ready: Promise<OpenCv> | undefined;
    try {
      if (build === 'techstark') cv = require('@techstark/opencv-js');
      else {
        if (build.sha256) {
          const actual = createHash('sha256').update(readFileSync(build.path)).digest('hex');
          if (actual !== build.sha256) throw new Error(`${build.path}: sha256 ${actual}, expected ${build.sha256} (rebuild with scripts/build-opencv-simd.sh or set OPENCV_BUILD=techstark)`);
        }
        // A fresh module object per call: the factory fills in whatever it is given.
        ready = require(build.path)({});
      }
    } catch (e) {
      dropNewHandlers();
      reject(e);
      return;
    }
    // The package and the factory both install their handlers synchronously.
    dropNewHandlers();
    const done = (m: OpenCv) => {
      delete m.then;
      resolve(m);
    };
    // The factory's promise resolves with the module object, which (emscripten >= 2) is no thenable.
    if (ready) ready.then(done, reject);
    else if (cv.Mat) done(cv);
    else cv.onRuntimeInitialized = () => done(cv);
  });
}

export function opencvErrorMessage(cv: OpenCv, e: unknown): string {
  if (typeof e === 'number') {
    try {
      return cv.exceptionFromPtr(e).msg;
    } catch {
      return `OpenCV error ${e}`;
    }
  }
  return e instanceof Error ? e.message : String(e);
}
