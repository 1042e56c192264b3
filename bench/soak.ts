/**
 * `npm run bench:soak [-- --tasks 2000 --baseline-memory]`
 * Memory over a long local run: N distributed tasks on the 4K sample ([brightness], so each
 * result is a 4K JPEG of about 1 MB) through a stack started as `npm start` starts it (the
 * embedded emulator with its bucket on disk, two workers), printing the resident memory of
 * every process of the stack at 0, N/2 and N results (0, 1,000 and 2,000 by default). `--baseline-memory` runs the same
 * tasks again against an emulator that keeps its bucket in memory (scripts/emulator.mjs with
 * no data folder), side by side in the same run, to show what the disk store saves.
 * Starts its own isolated stacks (temporary data folders, removed after).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { startStack, submit, type RunningStack } from '../scripts/local/harness';
import { freePort, waitFor } from '../scripts/local/processes';
import { sleep } from '../lib/core/time';
import { rssBelow } from './cpu';
import { intArg, progress, r1, ROOT, table } from './common';

const TASKS = intArg('tasks', 2000, 10, 20_000);
const BASELINE = process.argv.includes('--baseline-memory');
const SUBMISSION = 100;
const FILTERS = ['brightness'];
/** RSS samples over the run (even, so that N/2 is one of them). */
const SLOPE_SAMPLES = 10;

type Sample = { results: number; byComponent: Record<string, number> };

async function completed(stack: RunningStack): Promise<number> {
  const res = await fetch(`${stack.url}/api/workers/status/`);
  return (await res.json()).tasks.completed as number;
}

function sample(stack: RunningStack, results: number, emulatorPid?: number): Sample {
  const byComponent: Record<string, number> = {};
  for (const p of rssBelow(stack.pid, emulatorPid ? [emulatorPid] : [])) {
    const name = p.component === 'workers' ? (/worker\.ts (\S+)/.exec(p.cmd)?.[1] ?? 'worker') : p.component === 'other' ? 'reaper' : p.component;
    byComponent[name] = (byComponent[name] ?? 0) + p.rssMb;
  }
  return { results, byComponent };
}

async function run(label: string, memoryEmulator: boolean): Promise<{ samples: Sample[]; wallMs: number; diskMb?: number }> {
  let emulator: ChildProcess | undefined;
  const env: Record<string, string> = { WORKERS: 'worker-1,worker-3', LOG_LEVEL: 'warn' };
  if (memoryEmulator) {
    const port = await freePort();
    emulator = spawn(process.execPath, [path.join(ROOT, 'scripts', 'emulator.mjs'), String(port), '127.0.0.1'], { stdio: 'ignore', env: { ...process.env, EMULATOR_DATA_DIR: '' } });
    await waitFor('memory emulator', 15_000, async () => ((await fetch(`http://127.0.0.1:${port}/health`)).ok ? true : undefined), 100);
    env.AWS_ENDPOINT_URL = `http://127.0.0.1:${port}`;
    env.AWS_ACCESS_KEY_ID = 'test';
    env.AWS_SECRET_ACCESS_KEY = 'test';
  }
  const stack = await startStack(env, `soak-${label}`);
  try {
    const samples = [sample(stack, 0, emulator?.pid)];
    // Reported: 0, N/2 and N; the ones between feed the growth slope (GC makes RSS a sawtooth).
    const marks = Array.from({ length: SLOPE_SAMPLES }, (_, i) => Math.round((TASKS * (i + 1)) / SLOPE_SAMPLES));
    const t0 = performance.now();
    for (let sent = 0; sent < TASKS; sent += SUBMISSION) {
      await submit(stack, { filters: FILTERS, images: Array(Math.min(SUBMISSION, TASKS - sent)).fill('sample_4k.jpg') });
    }
    for (const mark of marks) {
      for (;;) {
        const done = await completed(stack);
        if (done >= mark) {
          samples.push(sample(stack, done, emulator?.pid));
          if (mark === TASKS || mark === marks[SLOPE_SAMPLES / 2 - 1]) progress(`${label}: ${done}/${TASKS} results after ${r1((performance.now() - t0) / 1000)} s`);
          break;
        }
        await sleep(500);
      }
    }
    const wallMs = performance.now() - t0;
    const diskMb = memoryEmulator ? undefined : Number(execFileSync('du', ['-sm', path.join(stack.env.LOCAL_DATA_DIR, 's3')], { encoding: 'utf8' }).split('\t')[0]);
    return { samples, wallMs, diskMb };
  } finally {
    await stack.stop();
    emulator?.kill('SIGTERM');
  }
}

/**
 * MB per result over the second half of the run (after the first results have warmed every
 * process up): the least-squares slope through its samples, so one garbage collection just
 * before or after a sample does not decide it.
 */
function steadyGrowth(samples: Sample[], name: string): number {
  const half = samples.slice(SLOPE_SAMPLES / 2);
  const xs = half.map((s) => s.results);
  const ys = half.map((s) => s.byComponent[name] ?? 0);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const sxy = xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0);
  const sxx = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  return sxx ? sxy / sxx : 0;
}

function report(label: string, r: { samples: Sample[]; wallMs: number; diskMb?: number }): void {
  const names = [...new Set(r.samples.flatMap((s) => Object.keys(s.byComponent)))].sort();
  console.log(`\n${label}: ${TASKS} tasks in ${r1(r.wallMs / 1000)} s${r.diskMb !== undefined ? `; bucket on disk ${r.diskMb} MB` : ''}`);
  const shown = [r.samples[0], r.samples[SLOPE_SAMPLES / 2], r.samples[SLOPE_SAMPLES]];
  console.log(table(['process', ...shown.map((s) => `RSS MB at ${s.results} results`), 'growth per 1,000 results, second half'], names.map((n) => [
    n,
    ...shown.map((s) => r1(s.byComponent[n] ?? 0)),
    `${r1(steadyGrowth(r.samples, n) * 1000)} MB`,
  ])));
}

async function main() {
  progress(`soak: ${TASKS} tasks of ${FILTERS.join('+')} on sample_4k.jpg, two workers`);
  const disk = await run('disk', false);
  report('Embedded emulator, bucket on disk (the npm start default)', disk);
  if (BASELINE) {
    const memory = await run('memory', true);
    report('Same emulator, bucket in memory (--baseline-memory)', memory);
    const whole = (r: typeof disk) => r.samples.at(-1)!.byComponent.emulator - r.samples[0].byComponent.emulator;
    console.log(`\nEmulator RSS growth over all ${TASKS} results: disk ${r1(whole(disk))} MB, memory ${r1(whole(memory))} MB (memory / disk ${r1(whole(memory) / Math.max(whole(disk), 0.1))}x)`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
