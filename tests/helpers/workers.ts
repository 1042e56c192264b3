/** Scenario-test helpers over the shared harness (scripts/local/harness.ts): task and worker status over HTTP, and a stack per test file. */
import { startStack, startWorker, type RunningStack, type StackInfo, type WorkerProcess } from '../../scripts/local/harness';
import { waitFor } from '../../scripts/local/processes';
import { getJson } from './shared-stack';

export { stackEnv, startWorker, submit, type WorkerProcess } from '../../scripts/local/harness';


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

export const terminal = (t: { status: string }) => ['completed', 'failed', 'cancelled', 'timed_out'].includes(t.status);

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
