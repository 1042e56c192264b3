/**
 * Batch runs behind POST /api/process-batch/*: fetch inputs from the bucket once, run a
 * strategy under the resource monitor, store outputs under processed/<run-id>/, and
 * report per-image results, totals and resources; compare and stress build on it.
 */
import { randomUUID } from 'node:crypto';
import { PutObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Clients } from '../core/clients';
import { dependency } from '../core/dependencies';
import { percentileOf, round } from '../core/numbers';
import { FILTERS } from '../filters/registry';
import { processLimits, type ProcessedImage, type ProcessLimits } from '../filters/pipeline';
import { filterPool, markPoolRun, poolInfo, poolSize } from '../filters/pool';
import { batchResultKey } from '../images/keys';
import { CONTENT_TYPES, EXTENSIONS } from '../filters/output';
import { describeImage, listImages, readImage } from '../images/source';
import { batchAdmission } from './admission';
import { startMonitor, type ResourceReport } from './monitor';
import type { BatchRequest } from './request';
import { execute, type Job, type Strategy } from './strategies';
import { mapLimit } from '../core/concurrency';

const UPLOAD_CONCURRENCY = 4;

export function newRunId(): string {
  return `${new Date().toISOString().replace(/[-:]/g, '').replace(/\..+/, '')}-${randomUUID().slice(0, 8)}`;
}

function limitsOf(deps: Clients, req: Pick<BatchRequest, 'output'>): ProcessLimits {
  return { ...processLimits(deps.config.processing), ...(req.output ? { output: req.output } : {}) };
}

/**
 * Holds an admission for the batch's pixels (every job's width x height, read from the
 * headers: nothing is decoded yet) while `run` works, so one process never decodes more
 * than BATCH_PIXEL_BUDGET at once.
 */
async function admitted<T>(deps: Clients, jobs: Job[], run: () => Promise<T>): Promise<T> {
  const dims = new Map<Buffer, number>();
  for (const j of jobs) {
    if (!dims.has(j.input)) {
      const m = await describeImage(j.input).catch(() => undefined);
      // An unreadable header is refused by the decoder before it allocates anything.
      dims.set(j.input, (m?.width ?? 0) * (m?.height ?? 0));
    }
  }
  const pixels = jobs.reduce((a, j) => a + dims.get(j.input)!, 0);
  const p = deps.config.processing;
  const release = await batchAdmission(p.batchPixelBudget).acquire(pixels, p.batchAdmissionWaitMs);
  try {
    return await run();
  } finally {
    release();
  }
}

/** Reads each distinct input once; refuses files over MAX_INPUT_BYTES before downloading them. */
export async function loadJobs(deps: Clients, req: BatchRequest): Promise<{ jobs: Job[]; fetch_ms: number }> {
  const t0 = performance.now();
  const max = deps.config.processing.maxBatchImages;
  let names = req.images;
  if (!names) {
    names = (await listImages(deps)).map((i) => i.name).slice(0, Math.max(1, Math.floor(max / req.copies)));
  }
  const bytes = new Map<string, Buffer>();
  for (const name of new Set(names)) {
    // One GET: readImage refuses an image over the cap from its Content-Length, before the body.
    bytes.set(name, (await readImage(deps, name, { maxBytes: deps.config.processing.maxInputBytes })).bytes);
  }
  const jobs: Job[] = [];
  for (let copy = 0; copy < req.copies; copy++) {
    for (const image of names) jobs.push({ index: jobs.length, image, copy, input: bytes.get(image)! });
  }
  return { jobs, fetch_ms: round(performance.now() - t0) };
}

async function store(deps: Clients, runId: string, strategy: string, jobs: Job[], outputs: ProcessedImage[]) {
  const t0 = performance.now();
  const bucket = deps.config.aws.bucket;
  const stored = await mapLimit(jobs, UPLOAD_CONCURRENCY, async (job) => {
    const out = outputs[job.index];
    const key = batchResultKey(runId, strategy, job.index, job.image, EXTENSIONS[out.format]);
    await dependency('s3', () => deps.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: out.output, ContentType: CONTENT_TYPES[out.format] })));
    const url = await getSignedUrl(deps.s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: deps.config.aws.presignTtlS });
    return {
      index: job.index,
      image: job.image,
      copy: job.copy,
      key,
      url,
      width: out.width,
      height: out.height,
      channels: out.channels,
      format: out.format,
      bytes: out.output.length,
      decode_ms: out.decode_ms,
      filters: out.filters,
      encode_ms: out.encode_ms,
      total_ms: out.total_ms,
      thread_id: out.thread_id,
    };
  });
  return { results: stored, upload_ms: round(performance.now() - t0) };
}

export interface StrategyRun {
  strategy: Strategy;
  wall_ms: number;
  images_per_s: number;
  resources: ResourceReport & { pool: ReturnType<typeof poolInfo>; pool_threads: number; threadpool_size: number; concurrency: number };
  outputs: ProcessedImage[];
}

/** Runs one strategy over the jobs, measured; the pool is warmed first so start-up is not timed. */
export async function runStrategy(deps: Clients, strategy: Strategy, jobs: Job[], req: BatchRequest): Promise<StrategyRun> {
  const p = deps.config.processing;
  const poolThreads = p.poolThreads || poolSize();
  if (strategy === 'multiprocessing') {
    await filterPool(poolThreads);
    markPoolRun();
  }
  const stop = startMonitor();
  const outputs = await execute(strategy, jobs, req.steps, limitsOf(deps, req), { concurrency: p.concurrency, poolThreads });
  const report = stop();
  return {
    strategy,
    wall_ms: report.wall_ms,
    images_per_s: round((jobs.length / report.wall_ms) * 1000),
    resources: { ...report, pool: poolInfo(), pool_threads: poolThreads, threadpool_size: p.threadpoolSize, concurrency: p.concurrency },
    outputs,
  };
}

function describeSteps(req: BatchRequest) {
  return req.steps.map((s) => ({ name: s.name, library: FILTERS[s.name].library, params: s.params }));
}

export async function runBatch(deps: Clients, req: BatchRequest, strategy: Strategy) {
  const runId = newRunId();
  const { jobs, fetch_ms } = await loadJobs(deps, req);
  const { run, results, upload_ms } = await admitted(deps, jobs, async () => {
    const run = await runStrategy(deps, strategy, jobs, req);
    return { run, ...(await store(deps, runId, strategy, jobs, run.outputs)) };
  });
  return {
    run_id: runId,
    strategy,
    filters: describeSteps(req),
    results,
    totals: { images: jobs.length, wall_ms: run.wall_ms, images_per_s: run.images_per_s, fetch_ms, upload_ms },
    resources: run.resources,
  };
}

type Workload = 'io-bound' | 'cpu-bound' | 'mixed';

export function workloadOf(req: BatchRequest): Workload {
  const kinds = new Set(req.steps.map((s) => FILTERS[s.name].bound));
  return kinds.size > 1 ? 'mixed' : kinds.has('io') ? 'io-bound' : 'cpu-bound';
}

const WHY: Record<Workload, string> = {
  'io-bound':
    "sharp runs these filters on libuv's threadpool, off the JS thread (like Python releasing the GIL), so plain concurrency on one thread already keeps every core busy; the worker pool only adds copying between threads",
  'cpu-bound':
    'OpenCV.js (sharpen, edges) runs as WASM on the JS thread (like a GIL-bound task), and so do the JPEG decode and encode around it (libjpeg-turbo, called synchronously), so concurrency on one thread cannot overlap it; only the worker pool runs it on several cores at once',
  mixed:
    "the sharp steps (resize, blur, brightness) leave the JS thread but the OpenCV.js steps (sharpen, edges) hold it, so the worker pool wins as soon as the OpenCV share dominates",
};
const EXPECTED: Record<Workload, Strategy> = { 'io-bound': 'threading', 'cpu-bound': 'multiprocessing', mixed: 'multiprocessing' };

export function verdict(workload: Workload, walls: Partial<Record<Strategy, number>>): { winner: Strategy; verdict: string } {
  const ranked = (Object.entries(walls) as [Strategy, number][]).sort((a, b) => a[1] - b[1]);
  const [winner, best] = ranked[0];
  const runnerUp = ranked[1];
  const margin = runnerUp ? runnerUp[1] / best : Infinity;
  let text = `${winner} won this ${workload} run`;
  if (runnerUp) text += ` (${round(margin * 100 - 100)}% faster than ${runnerUp[0]})`;
  text += `: ${WHY[workload]}.`;
  if (winner !== EXPECTED[workload]) {
    text += margin < 1.15 ? ` ${EXPECTED[workload]} was expected to win; the gap is within the ±15% that run-to-run noise moves a shared machine's timings.` : ` ${EXPECTED[workload]} was expected to win; re-run with more copies, or when the machine is less busy.`;
  }
  return { winner, verdict: text };
}

export async function compareStrategies(deps: Clients, req: BatchRequest, strategies: readonly Strategy[]) {
  const runId = newRunId();
  const { jobs, fetch_ms } = await loadJobs(deps, req);
  const runs: Partial<Record<Strategy, Awaited<ReturnType<typeof summarise>>>> = {};
  async function summarise(run: StrategyRun) {
    const { results, upload_ms } = await store(deps, runId, run.strategy, jobs, run.outputs);
    return { wall_ms: run.wall_ms, images_per_s: run.images_per_s, upload_ms, resources: run.resources, results };
  }
  await admitted(deps, jobs, async () => {
    for (const s of strategies) runs[s] = await summarise(await runStrategy(deps, s, jobs, req));
  });
  const walls = Object.fromEntries(strategies.map((s) => [s, runs[s]!.wall_ms])) as Partial<Record<Strategy, number>>;
  const baseline: Strategy = strategies.includes('sequential') ? 'sequential' : strategies[0];
  const speedups = Object.fromEntries(strategies.map((s) => [s, Math.round((walls[baseline]! / walls[s]!) * 100) / 100]));
  const workload = workloadOf(req);
  return {
    run_id: runId,
    filters: describeSteps(req),
    workload,
    images: jobs.length,
    fetch_ms,
    strategies: runs,
    speedups: { baseline, ...speedups },
    ...verdict(workload, walls),
  };
}

export async function stress(deps: Clients, req: BatchRequest) {
  const runId = newRunId();
  const { jobs, fetch_ms } = await loadJobs(deps, req);
  const iterations: { iteration: number; wall_ms: number; images_per_s: number; rss_mb: number; rss_peak_mb: number }[] = [];
  let last: StrategyRun | undefined;
  await admitted(deps, jobs, async () => {
    for (let i = 1; i <= req.iterations; i++) {
      last = await runStrategy(deps, req.strategy, jobs, req);
      iterations.push({ iteration: i, wall_ms: last.wall_ms, images_per_s: last.images_per_s, rss_mb: last.resources.memory_mb.rss_end, rss_peak_mb: last.resources.memory_mb.rss_peak });
    }
  });
  const walls = iterations.map((it) => it.wall_ms).sort((a, b) => a - b);
  const first = iterations[0].rss_mb;
  const end = iterations[iterations.length - 1].rss_mb;
  // Growth beyond allocator noise (64 MiB or 20%) between the first and last iteration.
  const grew = end - first > Math.max(64, first * 0.2);
  const { results, upload_ms } = await store(deps, runId, req.strategy, jobs, last!.outputs);
  const totalImages = jobs.length * req.iterations;
  const totalWall = iterations.reduce((a, it) => a + it.wall_ms, 0);
  return {
    run_id: runId,
    strategy: req.strategy,
    filters: describeSteps(req),
    images_per_iteration: jobs.length,
    iterations,
    summary: {
      iterations: req.iterations,
      mean_ms: round(totalWall / req.iterations),
      p50_ms: percentileOf(walls, 50),
      p95_ms: percentileOf(walls, 95),
      min_ms: walls[0],
      max_ms: walls[walls.length - 1],
      images_per_s: round((totalImages / totalWall) * 1000),
    },
    memory: { rss_after_first_mb: first, rss_after_last_mb: end, growth_mb: round(end - first), grew },
    fetch_ms,
    stored_iteration: req.iterations,
    results,
    upload_ms,
    resources: last!.resources,
  };
}
