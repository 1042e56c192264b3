/**
 * `npm run worker -- worker-3`: one worker in the foreground against the running stack
 * (lib/worker/runner.ts does the work). With no AWS endpoint or queue URL of its own it joins
 * the stack `npm start` is running, and stops when that stack does.
 * SIGTERM/SIGINT: finish the tasks in hand, deregister, exit. SIGKILL: a crash.
 */
import { unsupportedNode } from '../lib/core/node-version';
import { clients, closeClients } from '../lib/core/clients';
import { config, ConfigError, loadConfig } from '../lib/core/config';
import { AppError } from '../lib/core/errors';
import { resolveIdentity, type WorkerIdentity } from '../lib/worker/registry';
import { RunnerStartError, WorkerRunner } from '../lib/worker/runner';
import { processAlive, readLiveStackState, stackStatePath } from './local/stack-state';

/** How often a worker that joined a stack checks that its npm start is still running. */
const STACK_CHECK_MS = 1000;
/** The worker could not start; the one line printed says why and what to do. */
const EXIT_STARTUP_FAILED = 2;

function cannotStart(e: unknown): never {
  const usage = e instanceof AppError || e instanceof ConfigError ? ' (usage: npm run worker -- worker-1; ids worker-1, worker-2, worker-3, or any id with WORKER_CAPABILITIES)' : '';
  process.stderr.write(`[worker] cannot start: ${(e as Error).message ?? String(e)}${usage}\n`);
  process.exit(EXIT_STARTUP_FAILED);
}

/**
 * Without AWS_ENDPOINT_URL or QUEUE_URL the worker joins the stack `npm start` is running (its
 * state file), filling in only variables the shell did not set. Without either it would go to
 * real AWS with no credentials, which is never what a local user meant.
 */
function joinRunningStack(): { description: string; stackPid?: number } {
  const own = loadConfig();
  if (own.aws.endpoint || own.aws.queueUrl) return { description: `the stack at ${own.aws.endpoint ?? own.aws.queueUrl} (AWS_ENDPOINT_URL/QUEUE_URL)` };
  const state = readLiveStackState(own.local.stackStateFile);
  if (!state) {
    throw new RunnerStartError(
      `no running stack to join (${stackStatePath(own.local.stackStateFile)} is missing or its npm start has stopped) and AWS_ENDPOINT_URL is not set: ` +
        'start one first in another terminal (`npm start`, or `WORKERS=none npm start` for none of its own workers), or set AWS_ENDPOINT_URL/QUEUE_URL and REDIS_URL',
    );
  }
  for (const [name, value] of Object.entries(state.env)) if (!process.env[name]) process.env[name] = value;
  return {
    description: `the stack npm start (pid ${state.pid}) is running: API ${state.api_url}, emulator ${state.env.AWS_ENDPOINT_URL}, Redis ${state.env.REDIS_URL} (prefix "${state.env.REDIS_PREFIX}:")`,
    stackPid: state.pid,
  };
}

async function main() {
  const oldNode = unsupportedNode();
  if (oldNode) cannotStart(new Error(oldNode));
  const id = process.argv[2];
  if (id) process.env.WORKER_ID = id;
  let worker: WorkerIdentity;
  let joined: ReturnType<typeof joinRunningStack>;
  try {
    joined = joinRunningStack();
    worker = resolveIdentity(config().workers.id, config().workers.capabilities);
  } catch (e) {
    cannotStart(e);
  }
  process.stdout.write(`[worker] ${worker.id}: joining ${joined.description}\n`);
  const deps = clients();
  const runner = new WorkerRunner(deps, worker);
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`[worker] ${worker.id}: ${why}, finishing the current task then stopping\n`);
    runner.stop();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  try {
    await runner.start();
  } catch (e) {
    cannotStart(e);
  }
  // A worker that joined through the state file goes when that stack goes: its emulator
  // (and maybe its Redis) went with it, so there is nothing left to poll.
  const { stackPid } = joined;
  if (stackPid !== undefined) {
    setInterval(() => {
      if (!processAlive(stackPid)) stop(`the stack it joined (npm start pid ${stackPid}) has stopped`);
    }, STACK_CHECK_MS).unref();
  }
  process.stdout.write(`[worker] ${worker.id} ready (pid ${process.pid}; capabilities: ${worker.all ? 'all' : worker.capabilities.join(', ')}; queues: ${runner.queueNames.join(', ')})\n`);
  await runner.done;
  await closeClients(deps);
  process.stdout.write(`[worker] ${worker.id} stopped\n`);
  process.exit(0);
}

main().catch((e) => {
  process.stderr.write(`[worker] stopped on an unexpected error: ${(e as Error).message ?? String(e)}\n`);
  process.exit(1);
});
