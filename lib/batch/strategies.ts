/**
 * The seed's three execution strategies, in Node terms:
 * - sequential: one image after another on the event loop;
 * - threading: several images in flight on one event loop — sharp's work runs on libuv's
 *   threadpool (like Python releasing the GIL), OpenCV.js WASM runs on the JS thread
 *   (like a GIL-bound task) — bounded so decoded images do not pile up in memory;
 * - multiprocessing: a warm pool of worker threads, each with its own JS thread.
 */
import { processImage, type ProcessedImage, type ProcessLimits } from '../filters/pipeline';
import { runInPool } from '../filters/pool';
import type { FilterStep } from '../filters/request';
import { mapLimit } from '../core/concurrency';

export const STRATEGIES = ['sequential', 'threading', 'multiprocessing'] as const;
export type Strategy = (typeof STRATEGIES)[number];

export interface Job {
  index: number;
  image: string;
  copy: number;
  input: Buffer;
}

export interface ExecutionOptions {
  concurrency: number;
  poolThreads: number;
}

export async function execute(strategy: Strategy, jobs: Job[], steps: FilterStep[], limits: ProcessLimits, opts: ExecutionOptions): Promise<ProcessedImage[]> {
  switch (strategy) {
    case 'sequential':
      return mapLimit(jobs, 1, (j) => processImage(j.input, steps, limits));
    case 'threading':
      return mapLimit(jobs, opts.concurrency, (j) => processImage(j.input, steps, limits));
    case 'multiprocessing':
      return Promise.all(jobs.map((j) => runInPool(j.input, steps, limits, opts.poolThreads)));
  }
}
