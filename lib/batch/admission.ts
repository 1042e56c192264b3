/**
 * Memory admission for batch work in one API process. Decoded pixels, not request count,
 * are what exhaust memory (a 4K RGB image is ~25 MB raw and the filters hold a few copies),
 * so each batch asks for images x pixels, read from the headers before anything is decoded.
 * Work beyond BATCH_PIXEL_BUDGET waits its turn (FIFO) for at most BATCH_ADMISSION_WAIT_MS,
 * then is refused with 503 + Retry-After: a refused request costs nothing, whereas an
 * out-of-memory crash takes down every endpoint this process serves.
 */
import { OverloadedError, PayloadTooLargeError } from '../core/errors';

interface Waiter {
  pixels: number;
  admit: () => void;
}

export interface Admission {
  budget: number;
  inUse: () => number;
  /** Resolves with a release function once `pixels` fit; throws 413 if they never can, 503 after `waitMs`. */
  acquire: (pixels: number, waitMs: number) => Promise<() => void>;
}

export function createAdmission(budget: number): Admission {
  let inUse = 0;
  const queue: Waiter[] = [];

  const drain = () => {
    // FIFO: a big batch at the head is not starved by small ones overtaking it.
    while (queue.length && inUse + queue[0].pixels <= budget) {
      const w = queue.shift()!;
      inUse += w.pixels;
      w.admit();
    }
  };

  const releaser = (pixels: number) => {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      inUse -= pixels;
      drain();
    };
  };

  return {
    budget,
    inUse: () => inUse,
    async acquire(pixels, waitMs) {
      if (pixels > budget) {
        throw new PayloadTooLargeError(
          `this batch is ${pixels} pixels (images x copies x width x height); one API process admits at most ${budget} (BATCH_PIXEL_BUDGET): send fewer images or copies`,
          { field: 'images', details: { pixels, budget } },
        );
      }
      if (queue.length === 0 && inUse + pixels <= budget) {
        inUse += pixels;
        return releaser(pixels);
      }
      return new Promise((resolve, reject) => {
        const w: Waiter = {
          pixels,
          admit: () => {
            clearTimeout(timer);
            resolve(releaser(pixels));
          },
        };
        const timer = setTimeout(() => {
          queue.splice(queue.indexOf(w), 1);
          drain();
          reject(
            new OverloadedError(
              `batch work in this API process is at its pixel budget (BATCH_PIXEL_BUDGET ${budget}; ${inUse} in flight, this batch ${pixels}); retry shortly`,
              Math.max(1, Math.ceil(waitMs / 1000)),
              { budget, in_flight_pixels: inUse, pixels },
            ),
          );
        }, waitMs);
        queue.push(w);
      });
    },
  };
}

let shared: Admission | undefined;

/** The process's admission, sized on first use. */
export function batchAdmission(budget: number): Admission {
  if (!shared || shared.budget !== budget) shared = createAdmission(budget);
  return shared;
}
