/**
 * The "multiprocessing" strategy's warm pool: piscina worker threads, one per core, each
 * with its own JS thread (so OpenCV.js WASM runs in parallel) and OpenCV loaded at
 * warm-up. Created once per process on first use and reused by every request.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Piscina } from 'piscina';
import { errorFields, log } from '../core/log';
import { bufferOver } from '../core/bytes';
import { rebuildAppError } from '../core/errors';
import type { ProcessedImage, ProcessLimits } from './pipeline';
import type { PoolImageResult } from './pool-task';
import type { FilterStep } from './request';

export interface PoolInfo {
  id: string;
  threads: number;
  created_at: string;
  warm_ms: number;
  runs: number;
  completed_tasks: number;
}

/** `running`: the images handed to it and not yet back, which closePool waits for. */
let pool: { piscina: Piscina; info: PoolInfo; ready: Promise<void>; running: Set<Promise<unknown>> } | undefined;

export function poolSize(): number {
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}

/**
 * From sources, workers start from pool-worker.js beside this file. In an esbuild bundle
 * (Lambda) this code is inside the handler's bundle, which exports `poolTask` for them.
 */
function workerEntry(): { filename: string; name?: string } {
  const fromSources = path.join(__dirname, 'pool-worker.js');
  return existsSync(fromSources) ? { filename: fromSources } : { filename: __filename, name: 'poolTask' };
}

/** `entry` is for tests: a worker that cannot start shows that a failed warm-up is not cached. */
export async function filterPool(threads = poolSize(), entry: { filename: string; name?: string } = workerEntry()) {
  if (!pool) {
    const t0 = performance.now();
    const piscina = new Piscina({
      ...entry,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 2 ** 31 - 1,
      // Bounded queue: a burst of requests waits instead of piling decoded images in memory.
      maxQueue: 256,
    });
    const info: PoolInfo = { id: Math.random().toString(36).slice(2, 10), threads, created_at: new Date().toISOString(), warm_ms: 0, runs: 0, completed_tasks: 0 };
    // One warm-up task per thread loads OpenCV everywhere before the first real job.
    const ready = Promise.all(Array.from({ length: threads }, () => piscina.run({ warmup: true }))).then(() => {
      info.warm_ms = Math.round(performance.now() - t0);
    });
    // A worker dying outside a task (e.g. out of memory) is emitted here; without a listener it would crash the API process.
    piscina.on('error', (e) => log.error('filter pool worker failed', { pool: info.id, ...errorFields(e) }));
    const created = { piscina, info, ready, running: new Set<Promise<unknown>>() };
    pool = created;
    ready.catch((e) => {
      // Forget a pool that could not warm up, so the next request builds a new one instead of failing forever.
      log.error('filter pool warm-up failed', { pool: info.id, ...errorFields(e) });
      if (pool === created) pool = undefined;
      // No image has run in it (callers wait for the warm-up), so stopping its threads at once is safe.
      void piscina.destroy().catch(() => undefined);
    });
  }
  await pool.ready;
  return pool;
}

export async function runInPool(input: Buffer, steps: FilterStep[], limits: ProcessLimits, threads?: number): Promise<ProcessedImage> {
  const { piscina, running } = await filterPool(threads || poolSize());
  const run = piscina.run({ input, steps, limits }) as Promise<PoolImageResult>;
  running.add(run);
  const result = await run.finally(() => running.delete(run));
  if ('appError' in result) throw rebuildAppError(result.appError);
  return { ...result, output: bufferOver(result.output) };
}

export function poolInfo(): PoolInfo | null {
  return pool ? { ...pool.info, completed_tasks: pool.piscina.completed } : null;
}

export function markPoolRun(): void {
  if (pool) pool.info.runs++;
}

/**
 * Lets the images in the pool finish, then stops its threads. A pool's threads are never
 * stopped with an image in them: a thread stopped inside a libjpeg-turbo call aborts the
 * whole process (the native code throws a C++ exception that nothing catches). piscina's own close() is not used: it can stop a
 * thread while another's task ends (it counts finished threads more than once).
 */
export async function closePool(): Promise<void> {
  const closing = pool;
  pool = undefined;
  if (!closing) return;
  // Until none is left: a run that got the pool just before it closed is added a tick later.
  while (closing.running.size) await Promise.allSettled([...closing.running]);
  await closing.piscina.destroy();
}
