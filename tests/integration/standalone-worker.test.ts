/**
 * `npm run worker -- worker-1` typed into a clean shell joins the stack `npm start` runs —
 * docs/getting-started.md's "worker failure" scenario — through the state file npm start writes at its
 * default path. Without a running stack it says so in one line and exits 2.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from '../../scripts/local/processes';
import { readLiveStackState } from '../../scripts/local/stack-state';
import { startStack, ROOT, type RunningStack } from '../helpers/stack';
import { submit, waitForTask, fetchTaskStatus, terminal } from '../helpers/workers';

const DEFAULT_STATE = path.join(ROOT, '.local', 'stack.json');
const STACK_TRACE = /\n\s+at .+:\d+:\d+/;

function cleanShell(command: string) {
  // Only what a fresh terminal has: no AWS_*, REDIS_*, QUEUE_* variables at all.
  const child = spawn('bash', ['-c', command], { cwd: ROOT, env: { PATH: process.env.PATH!, HOME: process.env.HOME! }, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout.on('data', (b) => (text += b));
  child.stderr.on('data', (b) => (text += b));
  const done = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => text, done };
}

let stack: RunningStack | undefined;

afterAll(async () => {
  await stack?.stop();
});

test('with no stack running, the worker prints one line with the fix and exits 2', async () => {
  const running = readLiveStackState(DEFAULT_STATE);
  if (running) throw new Error(`an npm start (pid ${running.pid}) from this checkout is running; stop it to run this test`);
  const run = cleanShell('npm run -s worker -- worker-1');
  expect(await run.done).toBe(2);
  const lines = run.output().trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^\[worker\] cannot start: no running stack to join .*start one first in another terminal \(`npm start`/);
  expect(run.output()).not.toMatch(STACK_TRACE);
});

test('a worker started in a clean shell joins the running stack and completes the waiting task', async () => {
  // The default state file, as `npm start` in a terminal would write it.
  stack = await startStack({ STACK_STATE_FILE: '' }, 'standalone-worker');
  expect(JSON.parse(readFileSync(DEFAULT_STATE, 'utf8')).pid).toBe(stack.pid);

  const [taskId] = await submit(stack, { filters: ['resize'] });
  const waiting = await fetchTaskStatus(stack, taskId);
  expect(waiting).toMatchObject({ status: 'pending', explanation: 'No workers available to process task' });

  const worker = cleanShell('npm run -s worker -- worker-1');
  try {
    await waitFor('worker ready', 30_000, async () => (/worker-1 ready \(pid/.test(worker.output()) ? true : undefined));
    expect(worker.output()).toContain(`[worker] worker-1: joining the stack npm start (pid ${stack.pid}) is running: API ${stack.url}`);
    expect(worker.output()).toContain(`(prefix "${stack.env.REDIS_PREFIX}:")`);
    const done = await waitForTask(stack, taskId, terminal);
    expect(done).toMatchObject({ status: 'completed' });
  } finally {
    const pid = Number(/ready \(pid (\d+)/.exec(worker.output())?.[1]);
    if (pid) process.kill(pid, 'SIGTERM');
    else worker.child.kill('SIGKILL');
    await worker.done;
  }
  expect(worker.output()).toMatch(/worker-1 stopped/);

  await stack.stop();
  stack = undefined;
  // A clean stop removes the state file, so a later worker cannot join a stack that is gone.
  expect(existsSync(DEFAULT_STATE)).toBe(false);
}, 120_000);

test('a worker that joined a stack stops by itself when that stack stops', async () => {
  const joinedStack = await startStack({ STACK_STATE_FILE: '' }, 'standalone-worker-2');
  const worker = cleanShell('npm run -s worker -- worker-2');
  try {
    await waitFor('worker ready', 30_000, async () => (/worker-2 ready \(pid/.test(worker.output()) ? true : undefined));
    await joinedStack.stop();
    expect(await worker.done).toBe(0);
    expect(worker.output()).toMatch(new RegExp(`worker-2: the stack it joined \\(npm start pid ${joinedStack.pid}\\) has stopped, finishing the current task then stopping`));
    expect(worker.output()).toMatch(/worker-2 stopped/);
  } finally {
    worker.child.kill('SIGKILL');
    await joinedStack.stop();
  }
}, 120_000);
