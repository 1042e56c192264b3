/**
 * Starts the real local stack (scripts/start.ts, exactly what `npm start` runs) as a child
 * process with its own ports, queue, bucket and Redis prefix, so parallel or leftover runs
 * cannot interfere. Output goes to test-artifacts/<name>.log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { freePort } from '../../scripts/local/processes';

export const ROOT = path.resolve(__dirname, '..', '..');
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
    LOG_LEVEL: 'warn',
    // Scenario tests start the workers they need themselves (tests/helpers/workers.ts).
    WORKERS: 'none',
    ...overrides,
  };
}

/** Spawns scripts/start.ts; resolves once it prints its ready line, rejects if it exits first. */
export function spawnStart(env: Record<string, string>, name: string): { child: ChildProcess; output: () => string; done: Promise<number | null> } {
  mkdirSync(ARTIFACTS, { recursive: true });
  const log = createWriteStream(path.join(ARTIFACTS, `${name}.log`));
  const child = spawn(process.execPath, ['--import', 'tsx', START], {
    cwd: ROOT,
    env: { ...process.env, ...env, FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const collect = (b: Buffer) => {
    text += b.toString();
    if (text.length > 2_000_000) text = text.slice(-1_000_000);
    log.write(b);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => text, done };
}

export async function startStack(overrides: Record<string, string> = {}, name = 'stack'): Promise<RunningStack> {
  const env = await isolatedEnv(overrides);
  const { child, output, done } = spawnStart(env, name);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stack ${name} not ready in 90 s:\n${output().slice(-3000)}`)), 90_000);
    const check = () => {
      const m = /\[start\] ready (\S+)/.exec(output());
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    void done.then((code) => {
      clearTimeout(timer);
      reject(new Error(`stack ${name} exited with ${code} before ready:\n${output().slice(-3000)}`));
    });
  });
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return done;
  };
  return { url, env, pid: child.pid!, logFile: path.join(ARTIFACTS, `${name}.log`), child, output, stop };
}
