/** Worker processes for scenario tests: `npm run worker -- <id>` against a test stack. */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { IMAGE_PROCESS_ENV } from '../../lib/core/process-env';
import { waitFor } from '../../scripts/local/processes';
import { getJson } from './shared-stack';
import { ARTIFACTS, ROOT, startStack, type RunningStack, type StackInfo } from './stack';
import { postJson } from './batch';


export interface WorkerProcess {
  id: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | string | null>;
  stop: (signal?: NodeJS.Signals) => Promise<number | string | null>;
}

export function stackEnv(stack: StackInfo): Record<string, string> {
  return { ...stack.env, AWS_ENDPOINT_URL: stack.env.AWS_ENDPOINT_URL ?? `http://127.0.0.1:${stack.env.EMULATOR_PORT}` };
}

export async function startWorker(stack: StackInfo, id: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const log = createWriteStream(path.join(ARTIFACTS, `${path.basename(stack.logFile, '.log')}-${id}.log`), { flags: 'a' });
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'worker.ts'), id], {
    cwd: ROOT,
    env: { ...process.env, ...stackEnv(stack), ...IMAGE_PROCESS_ENV, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const collect = (b: Buffer) => {
    text += b.toString();
    log.write(b);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  await Promise.race([
    waitFor(`${id} ready`, 30_000, async () => (/ ready \(pid/.test(text) ? true : undefined), 100),
    exited.then((c) => {
      throw new Error(`${id} exited (${c}) before ready:\n${text}`);
    }),
  ]);
  return {
    id,
    child,
    output: () => text,
    exited,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export async function submit(stack: StackInfo, body: unknown): Promise<string[]> {
  const res = await postJson(`${stack.url}/api/process-batch/distributed/`, body);
  if (res.status !== 202) throw new Error(`submission answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body.task_ids;
}

export async function fetchTaskStatus(stack: StackInfo, id: string) {
  const res = await getJson(`${stack.url}/api/task/${id}/status/`);
  if (res.status !== 200) throw new Error(`status of ${id} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

export function waitForTask(stack: StackInfo, id: string, done: (t: any) => boolean, timeoutMs = 30_000) {
  return waitFor(`task ${id}`, timeoutMs, async () => {
    const t = await fetchTaskStatus(stack, id);
    return done(t) ? t : undefined;
  }, 100);
}

export const terminal = (t: { status: string }) => t.status === 'completed' || t.status === 'failed';

export async function fetchWorkersStatus(stack: StackInfo) {
  return (await getJson(`${stack.url}/api/workers/status/`)).body;
}

/**
 * A stack of the test file's own with the given workers, started before its tests and
 * torn down after them (workers SIGKILLed: a test that wants them graceful stops them).
 */
export function scenarioStack(name: string, env: Record<string, string>, workerIds: string[] = []) {
  const ctx = { stack: undefined as unknown as RunningStack, workers: [] as WorkerProcess[] };
  beforeAll(async () => {
    ctx.stack = await startStack(env, name);
    ctx.workers.push(...(await Promise.all(workerIds.map((id) => startWorker(ctx.stack, id)))));
  }, 120_000);
  afterAll(async () => {
    await Promise.all(ctx.workers.map((w) => w.stop('SIGKILL')));
    await ctx.stack?.stop();
  });
  return ctx;
}
