/**
 * The running stack's address book. `npm start` writes the endpoints and names it chose to
 * a small JSON file (STACK_STATE_FILE, default .local/stack.json) and removes it when it
 * stops; `npm run worker` reads it, so a worker started in another, clean shell joins that
 * stack instead of falling back to real AWS with no credentials.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

export interface StackState {
  pid: number;
  started_at: string;
  api_url: string;
  /** Variables a process needs to talk to the same queues, bucket and Redis keys. */
  env: {
    AWS_ENDPOINT_URL: string;
    AWS_REGION: string;
    QUEUE_NAME: string;
    DLQ_NAME: string;
    BUCKET_NAME: string;
    REDIS_URL: string;
    REDIS_PREFIX: string;
    DISPATCH_MODE: string;
  };
}

export function stackStatePath(file: string): string {
  return path.resolve(PROJECT_ROOT, file);
}

export function writeStackState(file: string, state: StackState): void {
  const target = stackStatePath(file);
  mkdirSync(path.dirname(target), { recursive: true });
  // Written whole then renamed, so a reader never sees half a file.
  const tmp = `${target}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  renameSync(tmp, target);
}

/** Removes the file only if it is still this process's (another start may have replaced it). */
export function removeStackState(file: string, pid: number = process.pid): void {
  const state = readStackState(file);
  if (state?.pid === pid) rmSync(stackStatePath(file), { force: true });
}

function readStackState(file: string): StackState | undefined {
  try {
    return JSON.parse(readFileSync(stackStatePath(file), 'utf8')) as StackState;
  } catch {
    return undefined;
  }
}

/** Whether a process with this pid exists (EPERM: it does, as another user's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The state of a stack whose `npm start` is still running; a file left by a dead one is ignored. */
export function readLiveStackState(file: string): StackState | undefined {
  const state = readStackState(file);
  return state && Number.isInteger(state.pid) && processAlive(state.pid) ? state : undefined;
}
