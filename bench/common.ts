/** Shared helpers for the benchmarks: medians, interleaved timing, progress on stderr, tables. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { round } from '../lib/core/numbers';
import { IMAGE_PROCESS_ENV } from '../lib/core/process-env';

export const ROOT = path.resolve(__dirname, '..');
export const SAMPLE_4K = readFileSync(path.join(ROOT, 'static', 'sample_4k.jpg'));

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const r1 = (n: number) => round(n, 1);
export const r2 = (n: number) => round(n, 2);

export function progress(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

export function intArg(name: string, def: number, min: number, max: number): number {
  const { values } = parseArgs({ options: { [name]: { type: 'string' } }, strict: false });
  const raw = values[name];
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`--${name} must be an integer from ${min} to ${max}`);
    process.exit(2);
  }
  return n;
}

export function stringArg(name: string): string | undefined {
  const { values } = parseArgs({ options: { [name]: { type: 'string' } }, strict: false });
  const raw = values[name];
  return typeof raw === 'string' ? raw : undefined;
}

/**
 * Times several variants round-robin (A B C A B C ...) so that machine noise hits them
 * alike; returns each variant's median in ms after `warmup` untimed rounds.
 */
export async function interleaved(variants: Record<string, () => Promise<unknown>>, rounds: number, warmup = 2): Promise<Record<string, number>> {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let round = 0; round < warmup + rounds; round++) {
    for (const [name, fn] of Object.entries(variants)) {
      const t0 = performance.now();
      await fn();
      if (round >= warmup) times[name].push(performance.now() - t0);
    }
  }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

export function table(head: string[], rows: (string | number)[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/**
 * Benchmarks measure image work as the API and the workers do it, with IMAGE_PROCESS_ENV.
 * glibc reads those settings only at process start, so a bench started without them runs
 * itself again with them and exits with that run's status.
 */
export function rerunWithImageProcessEnv(): void {
  if (Object.entries(IMAGE_PROCESS_ENV).every(([k, v]) => process.env[k] === v)) return;
  const res = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, ...IMAGE_PROCESS_ENV } });
  process.exit(res.status ?? 1);
}
