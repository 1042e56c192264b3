/**
 * Loads @techstark/opencv-js once per thread, defusing its traps (measured with 4.12.0-release.1,
 * the pinned version; loading takes 0.1-0.3 s to require the 10.9 MB file plus ~0.1 s to init):
 * - the module object is a self-resolving thenable: awaiting or resolving it spins forever,
 *   so `then` is deleted before it goes near a promise and callers get it wrapped;
 * - on load it installs process-wide `unhandledRejection` (abort) and `uncaughtException`
 *   handlers; they are removed again;
 * - its errors are bare numbers; `opencvErrorMessage` turns them into text.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
export type OpenCv = any;

let loading: Promise<{ cv: OpenCv }> | undefined;

export function loadOpenCv(): Promise<{ cv: OpenCv }> {
  loading ??= new Promise((resolve, reject) => {
    const events = ['unhandledRejection', 'uncaughtException'] as const;
    const before = new Map(events.map((e) => [e, new Set(process.listeners(e as any))]));
    let cv: OpenCv;
    try {
      cv = require('@techstark/opencv-js');
    } catch (e) {
      reject(e);
      return;
    }
    for (const e of events) {
      for (const l of process.listeners(e as any)) if (!before.get(e)!.has(l)) process.removeListener(e, l as any);
    }
    const done = () => {
      delete cv.then;
      resolve({ cv });
    };
    if (cv.Mat) done();
    else cv.onRuntimeInitialized = done;
  });
  return loading;
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
