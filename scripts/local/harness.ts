/**
 * Runs real stacks and workers as child processes for the tests and the benchmarks: the
 * stack is scripts/start.ts (exactly what `npm start` runs) with its own ports, queue,
 * bucket, Redis prefix, state file and local data folder (a temporary one, removed when the
 * stack is stopped), so parallel or leftover runs cannot interfere; a
 * worker is scripts/worker.ts (`npm run worker`). Output goes to test-artifacts/<name>.log.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IMAGE_PROCESS_ENV } from '../../lib/core/process-env';
import { freePort, spawnCollected, waitFor } from './processes';
import { PROJECT_ROOT } from './stack-state';

export const ROOT = PROJECT_ROOT;
export const ARTIFACTS = path.join(ROOT, 'test-artifacts');
const START = path.join(ROOT, 'scripts', 'start.ts');

export interface StackInfo {
  url: string;
  env: Record<string, string>;
  pid: number;
  logFile: string;
}

export interface RunningStack extends StackInfo {
  child: ChildProcess;
  output: () => string;
  stop: (signal?: NodeJS.Signals) => Promise<number | null>;
}

export function runId(): string {
  return `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/** Environment for an isolated stack: fresh ports and names, everything else default. */
export async function isolatedEnv(overrides: Record<string, string> = {}): Promise<Record<string, string>> {
  const id = runId();
  return {
    PORT: String(await freePort()),
    LAMBDA_PORT: String(await freePort()),
    EMULATOR_PORT: String(await freePort()),
    QUEUE_NAME: `${id}-tasks.fifo`,
    DLQ_NAME: `${id}-dlq.fifo`,
    BUCKET_NAME: `${id}-bucket`,
    REDIS_PREFIX: id,
    // Each test stack its own address book, so the default one stays free for `npm start`.
    STACK_STATE_FILE: path.join(ARTIFACTS, 'state', `${id}.json`),
    LOCAL_DATA_DIR: path.join(os.tmpdir(), 'image-pipeline-test-data', id),
    LOG_LEVEL: 'warn',
    // Scenario tests start the workers they need themselves (startWorker).
    WORKERS: 'none',
    ...overrides,
  };
}

function exitCode(c: number | string): number | null {
  return typeof c === 'number' ? c : null;
}

/** Spawns scripts/start.ts; `done` resolves with its exit code (null when killed by a signal). */
export function spawnStart(env: Record<string, string>, name: string, args: string[] = []): { child: ChildProcess; output: () => string; done: Promise<number | null> } {
  const run = spawnCollected(process.execPath, ['--import', 'tsx', START, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, FORCE_COLOR: '0' },
    logFile: path.join(ARTIFACTS, `${name}.log`),
  });
  return { child: run.child, output: run.output, done: run.exited.then(exitCode) };
}

/**
 * Starts a stack and resolves once it prints its ready line; rejects if it exits first.
 * A LOCAL_DATA_DIR given in `overrides` is the caller's to remove; the generated one is
 * removed when the stack stops.
 */
export async function startStack(overrides: Record<string, string> = {}, name = 'stack', args: string[] = []): Promise<RunningStack> {
  const env = await isolatedEnv(overrides);
  const { child, output, done: exited } = spawnStart(env, name, args);
  const done = overrides.LOCAL_DATA_DIR
    ? exited
    : exited.then((code) => {
        rmSync(env.LOCAL_DATA_DIR, { recursive: true, force: true });
        return code;
      });
  const url = await Promise.race([
    waitFor(`stack ${name} ready`, 90_000, async () => /\[start\] ready (\S+)/.exec(output())?.[1], 100).catch((e) => {
      throw new Error(`${(e as Error).message}:\n${output().slice(-3000)}`);
    }),
    done.then((code) => {
      throw new Error(`stack ${name} exited with ${code} before ready:\n${output().slice(-3000)}`);
    }),
  ]);
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return done;
  };
  return { url, env, pid: child.pid!, logFile: path.join(ARTIFACTS, `${name}.log`), child, output, stop };
}

export interface WorkerProcess {
  id: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | string | null>;
  stop: (signal?: NodeJS.Signals) => Promise<number | string | null>;
}

/** The variables a process needs to reach a stack's emulator, queues and Redis keys. */
export function stackEnv(stack: StackInfo): Record<string, string> {
  return { ...stack.env, AWS_ENDPOINT_URL: stack.env.AWS_ENDPOINT_URL ?? `http://127.0.0.1:${stack.env.EMULATOR_PORT}` };
}

/**
 * `npm run worker -- <id>` against a stack; resolves once the worker says it is ready.
 * `checkout`: another checkout of the project whose worker to run instead (a benchmark's
 * before-and-after), with its own node_modules.
 */
export async function startWorker(stack: StackInfo, id: string, env: Record<string, string> = {}, checkout = ROOT): Promise<WorkerProcess> {
  const { child, output, exited } = spawnCollected(process.execPath, ['--import', 'tsx', path.join(checkout, 'scripts', 'worker.ts'), id], {
    cwd: checkout,
    env: { ...process.env, ...stackEnv(stack), ...IMAGE_PROCESS_ENV, ...env },
    logFile: path.join(ARTIFACTS, `${path.basename(stack.logFile, '.log')}-${id}.log`),
  });
  await Promise.race([
    waitFor(`${id} ready`, 30_000, async () => (/ ready \(pid/.test(output()) ? true : undefined), 100),
    exited.then((c) => {
      throw new Error(`${id} exited (${c}) before ready:\n${output()}`);
    }),
  ]);
  return {
    id,
    child,
    output,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** POST /api/process-batch/distributed/; the accepted task ids. */
export async function submit(stack: StackInfo, body: unknown): Promise<string[]> {
  const res = await fetch(`${stack.url}/api/process-batch/distributed/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const parsed = await res.json();
  if (res.status !== 202) throw new Error(`submission answered ${res.status}: ${JSON.stringify(parsed)}`);
  return parsed.task_ids;
}
