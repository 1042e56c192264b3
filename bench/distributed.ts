/**
 * `npm run bench:distributed [-- --tasks 24]`
 * N 4K tasks through the whole pipeline (HTTP submit → SQS FIFO → worker processes → S3 +
 * Redis) with 1, 2 and 3 workers, against the same images processed in this process.
 * Starts its own isolated stack (embedded emulator, Redis prefix of its own).
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { processImage } from '../lib/filters/pipeline';
import { parseFilterSteps } from '../lib/filters/request';
import { startStack } from '../tests/helpers/stack';
import { startWorker, submit, taskStatus, workersStatus, type WorkerProcess } from '../tests/helpers/workers';
import { intArg, median, progress, r1, r2, ROOT, table } from './common';

const FILTERS = ['sharpen', 'edges'];

async function main() {
  const n = intArg('tasks', 24, 2, 200);
  const input = readFileSync(path.join(ROOT, 'static', 'sample_4k.jpg'));
  const steps = parseFilterSteps(FILTERS, {});

  progress(`in-process baseline: ${n} x [${FILTERS}] on the 4K sample`);
  await processImage(input, steps);
  const t0 = performance.now();
  const inProcess: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await processImage(input, steps);
    inProcess.push(performance.now() - t);
  }
  const inProcessWall = performance.now() - t0;

  progress('starting an isolated stack');
  const stack = await startStack({ LOG_LEVEL: 'error', POLL_WAIT_S: '1', HEARTBEAT_INTERVAL_S: '2' }, 'bench-distributed');
  const rows: (string | number)[][] = [[ 'in-process (this thread)', '-', r1(inProcessWall), r2((n / inProcessWall) * 1000), '1.00', '-', r1(median(inProcess)), '-', '-', '-', '-' ]];
  let oneWorkerWall = 0;
  try {
    for (const k of [1, 2, 3]) {
      const workers: WorkerProcess[] = await Promise.all(Array.from({ length: k }, (_, i) => startWorker(stack, `bench-${k}-${i + 1}`, { WORKER_CAPABILITIES: 'all' })));
      // One warm-up task per worker loads OpenCV before timing starts.
      const beforeWarm = await finishedSoFar(stack);
      const warm = (await Promise.all(workers.map(() => submit(stack, { filters: FILTERS })))).flat();
      await waitAll(stack, warm, beforeWarm);
      progress(`${k} worker(s): ${n} tasks`);
      const before = await finishedSoFar(stack);
      const start = performance.now();
      const ids = (await Promise.all(Array.from({ length: n }, () => submit(stack, { filters: FILTERS })))).flat();
      const done = await waitAll(stack, ids, before);
      const wall = performance.now() - start;
      if (k === 1) oneWorkerWall = wall;
      const failed = done.filter((t) => t.status !== 'completed').length;
      const med = (f: (t: any) => number) => r1(median(done.filter((t) => t.timings).map(f)));
      rows.push([
        `pipeline, ${k} worker${k > 1 ? 's' : ''}`,
        failed ? `${failed} failed` : 'all completed',
        r1(wall),
        r2((n / wall) * 1000),
        r2(k === 1 ? inProcessWall / wall : oneWorkerWall / wall),
        med((t) => t.queue_wait_ms),
        med((t) => t.timings.process_ms),
        med((t) => t.timings.fetch_ms),
        med((t) => t.timings.store_ms),
        med((t) => t.timings.claim_ms),
        med((t) => t.processing_ms - t.timings.process_ms),
      ]);
      await Promise.all(workers.map((w) => w.stop('SIGTERM')));
    }
  } finally {
    await stack.stop();
  }
  console.log(`\n### Distributed: ${n} tasks of [${FILTERS.join(', ')}] on the 4K sample; ${os.cpus().length} cores\n`);
  console.log(
    table(
      ['run', 'outcome', 'wall ms', 'tasks/s', 'speed-up (1 worker vs in-process; k workers vs 1)', 'median queue wait ms', 'median process ms', 'S3 get ms', 'S3 put ms', 'Redis claim ms', 'worker overhead ms (processing − process)'],
      rows,
    ),
  );
  const perTaskPipeline = oneWorkerWall / n;
  const perTaskInProcess = inProcessWall / n;
  console.log(`\nPipeline overhead with 1 worker: ${r1(((perTaskPipeline - perTaskInProcess) / perTaskInProcess) * 100)}% of in-process processing time per task (target ≤ 10%).`);
}

/**
 * Waits on the shared outcome counters (one cheap request per 250 ms) rather than polling
 * every task, which would steal CPU from the workers on a 2-core machine; then reads each
 * task once.
 */
async function waitAll(stack: Awaited<ReturnType<typeof startStack>>, ids: string[], finishedBefore: number) {
  const deadline = Date.now() + 10 * 60_000;
  while (Date.now() < deadline) {
    const t = (await workersStatus(stack)).tasks;
    if (t.completed + t.failed >= finishedBefore + ids.length) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const results = await Promise.all(ids.map((id) => taskStatus(stack, id)));
  const unfinished = results.filter((t) => t.status !== 'completed' && t.status !== 'failed');
  if (unfinished.length) throw new Error(`${unfinished.length} tasks unfinished after 10 minutes`);
  return results;
}

async function finishedSoFar(stack: Awaited<ReturnType<typeof startStack>>): Promise<number> {
  const t = (await workersStatus(stack)).tasks;
  return t.completed + t.failed;
}

void main();
