/**
 * The local stack keeps the user's work: every process of `npm start` (the start process, its
 * reaper, the private Redis, the emulator, the API, the worker) is SIGKILLed, and the next
 * `npm start` in the same folder finds the upload, every result byte-identical, every task's
 * status and history, and finishes the tasks that were pending or running at the kill without
 * their being submitted again. `--fresh` then starts empty.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { closeClients, type Clients } from '../../lib/core/clients';
import { freePort, waitFor } from '../../scripts/local/processes';
import { processAlive } from '../../scripts/local/stack-state';
import { postJson } from '../helpers/batch';
import { getJson, stackClients } from '../helpers/shared-stack';
import { isolatedEnv, ROOT, startStack, type RunningStack } from '../helpers/stack';
import { submit } from '../helpers/workers';

/** Every process below `pid`, children first found by their parent pid. */
function descendants(pid: number): number[] {
  let out = '';
  try {
    out = execFileSync('ps', ['--ppid', String(pid), '-o', 'pid='], { encoding: 'utf8' });
  } catch {
    return [];
  }
  const children = out.split('\n').map(Number).filter(Boolean);
  return children.flatMap((c) => [c, ...descendants(c)]);
}

async function objectBytes(deps: Clients, key: string): Promise<Buffer> {
  const res = await deps.s3.send(new GetObjectCommand({ Bucket: deps.config.aws.bucket, Key: key }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

const UPLOAD = readFileSync(path.join(ROOT, 'static', 'misurina-sunset.jpg'));
const UPLOAD_NAME = 'restart-upload.jpg';
/** Fields of a task that a restart must not change. */
const kept = (t: any) => {
  const { url: _signedAnew, ...result } = t.result;
  return { status: t.status, attempts: t.attempts, worker_id: t.worker_id, result, attempt_history: t.attempt_history, finished_at: t.finished_at };
};

let dataDir: string;
let env: Record<string, string>;
const stacks: RunningStack[] = [];
beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'restart-after-kill-'));
  // A private Redis (nothing answers on this port), so its append-only file is part of what is killed.
  env = await isolatedEnv({ LOCAL_DATA_DIR: dataDir, REDIS_URL: `redis://127.0.0.1:${await freePort()}`, WORKERS: 'worker-3', HEARTBEAT_INTERVAL_S: '1', POLL_WAIT_S: '1' });
});
afterAll(async () => {
  for (const s of stacks) await s.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('after SIGKILL of the whole stack, npm start brings back uploads, results, task history, and finishes unfinished tasks', async () => {
  const before = await startStack(env, 'restart-before');
  stacks.push(before);
  const uploaded = await fetch(`${before.url}/api/images/?name=${UPLOAD_NAME}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(UPLOAD) });
  expect(uploaded.status).toBe(201);

  // A finished job on the upload: its results and task records are what must come back.
  const doneIds = await submit(before, { filters: ['blur', 'edges'], images: [UPLOAD_NAME, UPLOAD_NAME, 'sample_4k.jpg'] });
  const done = await waitFor('first job completed', 60_000, async () => {
    const all = await Promise.all(doneIds.map(async (id) => (await getJson(`${before.url}/api/task/${id}/status/`)).body));
    return all.every((t) => t.status === 'completed') ? all : undefined;
  }, 200);
  let deps = stackClients(before);
  const resultBytes = await Promise.all(done.map((t) => objectBytes(deps, t.result.key)));
  await closeClients(deps);

  // A longer job, killed part-way: some tasks done, others pending or being processed.
  const submitted = await postJson(`${before.url}/api/process-batch/distributed/`, { filters: ['sharpen', 'edges', 'blur'], images: Array(24).fill('sample_4k.jpg') });
  expect(submitted.status).toBe(202);
  const { job_id: jobId, task_ids: busyIds } = submitted.body as { job_id: string; task_ids: string[] };
  await waitFor('second job under way', 60_000, async () => ((await getJson(`${before.url}/api/jobs/${jobId}/`)).body.counts.completed >= 1 ? true : undefined), 50);

  const stackProcesses = [before.pid, ...descendants(before.pid)];
  expect(stackProcesses.length).toBeGreaterThanOrEqual(6); // start, reaper, redis, emulator, API, worker-3
  for (const pid of stackProcesses) process.kill(pid, 'SIGKILL');
  await waitFor('stack gone', 15_000, async () => (stackProcesses.some(processAlive) ? undefined : true), 100);
  await before.stop();

  const after = await startStack(env, 'restart-after');
  stacks.push(after);
  const restored = /restored from Redis: (\d+) unfinished task\(s\) queued again/.exec(after.output());
  expect(Number(restored?.[1])).toBeGreaterThanOrEqual(1);

  const images = (await getJson(`${after.url}/api/images/`)).body.images.map((i: { name: string }) => i.name);
  expect(images).toEqual(expect.arrayContaining([UPLOAD_NAME, 'sample_4k.jpg', 'misurina-sunset.jpg']));
  deps = stackClients(after);
  try {
    expect((await objectBytes(deps, `source/${UPLOAD_NAME}`)).equals(UPLOAD)).toBe(true);
    for (const [i, t] of done.entries()) {
      const now = (await getJson(`${after.url}/api/task/${t.task_id}/status/`)).body;
      expect(kept(now)).toEqual(kept(t));
      expect((await objectBytes(deps, t.result.key)).equals(resultBytes[i])).toBe(true);
      // What a user downloads: the presigned URL the restarted stack hands out.
      expect(Buffer.from(await (await fetch(now.result.url)).arrayBuffer()).equals(resultBytes[i])).toBe(true);
    }

    // Nothing resubmitted: the killed job's own tasks complete, each once in the job's counts.
    const finished = await waitFor('killed job completed', 180_000, async () => {
      const job = (await getJson(`${after.url}/api/jobs/${jobId}/`)).body;
      return job.status === 'completed' ? job : undefined;
    }, 500);
    expect(finished.counts).toMatchObject({ total: 24, completed: 24, failed: 0 });
    for (const id of busyIds) {
      const t = (await getJson(`${after.url}/api/task/${id}/status/`)).body;
      expect(t.status).toBe('completed');
      const meta = await sharp(await objectBytes(deps, t.result.key)).metadata();
      expect([meta.width, meta.height]).toEqual([3840, 2160]);
    }
  } finally {
    await closeClients(deps);
  }
  await after.stop();
  expect(existsSync(path.join(dataDir, 'stack.lock'))).toBe(false);

  const fresh = await startStack(env, 'restart-fresh', ['--fresh']);
  stacks.push(fresh);
  expect(fresh.output()).toMatch(/starting empty \(--fresh\): removed .*s3.*redis/);
  const freshImages = (await getJson(`${fresh.url}/api/images/`)).body.images.map((i: { name: string }) => i.name);
  expect(freshImages.sort()).toEqual(['misurina-sunset.jpg', 'sample_4k.jpg']);
  expect((await getJson(`${fresh.url}/api/task/${doneIds[0]}/status/`)).status).toBe(404);
  expect((await getJson(`${fresh.url}/api/jobs/${jobId}/`)).status).toBe(404);
}, 420_000);
