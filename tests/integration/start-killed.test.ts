/**
 * If `npm start` itself is killed (SIGKILL, the OOM killer), nothing it started keeps
 * running: its reaper process notices the closed pipe and stops the API, the emulator,
 * the workers and a private Redis.
 */
import { execFileSync, spawn } from 'node:child_process';
import { freePort, waitFor } from '../../scripts/local/processes';
import { processAlive } from '../../scripts/local/stack-state';
import { isolatedEnv, ROOT, startStack } from '../helpers/stack';

function childrenOf(pid: number): number[] {
  try {
    return execFileSync('ps', ['--ppid', String(pid), '-o', 'pid='], { encoding: 'utf8' }).split('\n').map(Number).filter(Boolean);
  } catch {
    return [];
  }
}


test('SIGKILL of npm start leaves no process it started', async () => {
  const stack = await startStack({ WORKERS: 'worker-1', REDIS_URL: `redis://127.0.0.1:${await freePort()}` }, 'start-killed');
  const started = childrenOf(stack.pid);
  // redis-server, emulator, API, worker-1 (and the reaper itself).
  expect(started.length).toBeGreaterThanOrEqual(5);
  expect(started.every(processAlive)).toBe(true);

  stack.child.kill('SIGKILL');
  await stack.stop();
  await waitFor('children gone', 15_000, async () => (started.some(processAlive) ? undefined : true), 200);
  expect(started.filter(processAlive)).toEqual([]);
}, 120_000);

test('SIGKILL of the npm process that ran npm start stops the stack too', async () => {
  // As `npm start` does: a parent process (here sh) runs scripts/start.ts as its child.
  const env = await isolatedEnv({ WORKERS: 'worker-1' });
  const wrapper = spawn('sh', ['-c', `"${process.execPath}" --import tsx scripts/start.ts; true`], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  wrapper.stdout!.on('data', (b) => (out += b));
  await waitFor('stack ready', 90_000, async () => (/\[start\] ready/.test(out) ? true : undefined), 200);
  const [start] = childrenOf(wrapper.pid!);
  const started = [start, ...childrenOf(start)];
  expect(started.length).toBeGreaterThanOrEqual(4);

  wrapper.kill('SIGKILL');
  await waitFor('stack gone', 20_000, async () => (started.some(processAlive) ? undefined : true), 200);
  expect(started.filter(processAlive)).toEqual([]);
}, 120_000);
