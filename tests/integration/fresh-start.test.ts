/**
 * Ctrl-C and `npm start` again keeps the work: tasks, jobs and the bucket are where they were,
 * and a task still pending when the stack stopped runs after the next start (its queue is
 * rebuilt from Redis). FRESH=true (or `npm start -- --fresh`) starts empty and says so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getJson } from '../helpers/shared-stack';
import { isolatedEnv, spawnStart, startStack, type RunningStack } from '../helpers/stack';
import { submit, waitForTask } from '../helpers/workers';

let dataDir: string;
let env: Record<string, string>;
const stacks: RunningStack[] = [];
beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'fresh-start-'));
  env = await isolatedEnv({ LOCAL_DATA_DIR: dataDir, WORKERS: 'none' });
});
afterAll(async () => {
  for (const s of stacks) await s.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('after Ctrl-C, the next start keeps tasks and queues the unfinished ones again; FRESH=true starts empty', async () => {
  const first = await startStack(env, 'fresh-start-first');
  stacks.push(first);
  // The machine's Redis answered: npm start says whose persistence that is.
  expect(first.output()).toMatch(/already running; what it keeps on disk is that server's own persistence setting/);
  const [pending] = await submit(first, { filters: ['blur'], images: ['misurina-sunset.jpg'] });
  expect(await first.stop('SIGINT')).toBe(0);

  const second = await startStack({ ...env, WORKERS: 'worker-1' }, 'fresh-start-second');
  stacks.push(second);
  expect(second.output()).toMatch(/restored from Redis: 1 unfinished task\(s\) queued again/);
  const done = await waitForTask(second, pending, (t) => t.status === 'completed', 60_000);
  expect(done.attempts).toBe(1);
  await second.stop();

  const fresh = await startStack({ ...env, FRESH: 'true' }, 'fresh-start-fresh');
  stacks.push(fresh);
  expect(fresh.output()).toMatch(new RegExp(`starting empty \\(--fresh\\): removed ${dataDir}/s3`));
  expect(fresh.output()).toMatch(new RegExp(`redis: cleared [1-9]\\d* key\\(s\\) under "${env.REDIS_PREFIX}:" \\(--fresh\\)`));
  expect((await getJson(`${fresh.url}/api/task/${pending}/status/`)).status).toBe(404);
  const images = (await getJson(`${fresh.url}/api/images/`)).body.images.map((i: { name: string }) => i.name);
  expect(images.sort()).toEqual(['misurina-sunset.jpg', 'sample_4k.jpg']);
}, 240_000);

test('an argument npm start does not know is refused, naming the one it takes', async () => {
  const run = spawnStart(await isolatedEnv(), 'start-unknown-argument', ['--fersh']);
  expect(await run.done).toBe(2);
  expect(run.output()).toMatch(/cannot start: unknown argument "--fersh"; npm start takes only --fresh/);
}, 60_000);
