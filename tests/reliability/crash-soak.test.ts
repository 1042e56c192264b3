// Capability dispatch while workers are SIGKILLed and restarted every few seconds: at the
// end every task completed (none failed, none dead-lettered: docs/reliability.md's claim),
// each has exactly one decodable result in S3, and nothing was counted twice. Runs at the
// product's MAX_RECEIVE_COUNT (3); only the visibility timeout is shortened, so that a
// delivery lost with a killed worker comes back in seconds, not a minute.
// SOAK_TASKS sets N (CI default 60; the documented run 200).
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { closeClients } from '../../lib/core/clients';
import { fetchResult } from '../helpers/batch';
import { stackClients } from '../helpers/shared-stack';
import { startStack, type RunningStack } from '../helpers/stack';
import { startWorker, submit, fetchTaskStatus, fetchWorkersStatus, type WorkerProcess } from '../helpers/workers';
import { sleep } from '../../lib/core/time';

const N = Number(process.env.SOAK_TASKS ?? 60);
const MIX = [
  { filters: ['resize', 'blur'], filter_params: { resize: { width: 320, height: 240 } } },
  { filters: ['resize', 'sharpen', 'edges'], filter_params: { resize: { width: 640, height: 360 } } },
  { filters: ['sharpen'] },
  { filters: ['brightness'] },
];
let stack: RunningStack;
const live = new Map<string, WorkerProcess>();
const kills: string[] = [];

beforeAll(async () => {
  stack = await startStack({ DISPATCH_MODE: 'capability', HEARTBEAT_INTERVAL_S: '1', POLL_WAIT_S: '1', VISIBILITY_TIMEOUT_S: '3' }, 'crash-soak');
  expect(stack.env.MAX_RECEIVE_COUNT).toBeUndefined();
  for (const w of await Promise.all(['worker-1', 'worker-2', 'worker-3'].map((id) => startWorker(stack, id)))) live.set(w.id, w);
}, 120_000);
afterAll(async () => {
  await Promise.all([...live.values()].map((w) => w.stop('SIGKILL')));
  await stack?.stop();
});

test(`${N} tasks, a random worker SIGKILLed and restarted every 1.5-3 s: none lost`, async () => {
  let running = true;
  const killer = (async () => {
    while (running) {
      await sleep(1500 + Math.random() * 1500);
      if (!running) break;
      const ids = [...live.keys()];
      const victim = ids[Math.floor(Math.random() * ids.length)];
      await live.get(victim)!.stop('SIGKILL');
      kills.push(victim);
      live.set(victim, await startWorker(stack, victim));
    }
  })();
  // Submissions spread over ~15 s, so kills land while work is in flight whatever N is.
  const ids: string[] = [];
  const pause = 15_000 / Math.ceil(N / 10);
  for (let i = 0; i < N; i += 10) {
    const batch = await Promise.all(Array.from({ length: Math.min(10, N - i) }, (_, j) => submit(stack, MIX[(i + j) % MIX.length])));
    ids.push(...batch.flat());
    await sleep(pause);
  }

  const deadline = Date.now() + 240_000;
  let finished: any[] = [];
  while (Date.now() < deadline) {
    const t = (await fetchWorkersStatus(stack)).tasks;
    if (t.completed + t.failed >= N) break;
    await sleep(500);
  }
  running = false;
  await killer;
  finished = await Promise.all(ids.map((id) => fetchTaskStatus(stack, id)));

  const notTerminal = finished.filter((t) => t.status !== 'completed' && t.status !== 'failed');
  expect(notTerminal.map((t) => `${t.task_id} ${t.status}`)).toEqual([]);
  const completed = finished.filter((t) => t.status === 'completed');
  const failed = finished.filter((t) => t.status === 'failed');
  process.stdout.write(`[soak] ${N} tasks, ${kills.length} kills so far: ${completed.length} completed, ${failed.length} failed\n`);
  // A worker crash is survived by redelivery: nothing may end failed (a dead-lettered task
  // ends failed/worker_failure), not only "terminal".
  expect(failed.map((t) => `${t.task_id} ${t.failure_type}/${t.failure_reason} attempts=${t.attempts}`)).toEqual([]);
  expect(completed).toHaveLength(N);
  // Capability dispatch never sends a task to a worker that cannot run it.
  expect(finished.filter((t) => t.failure_type === 'job_failure')).toEqual([]);
  expect(kills.length).toBeGreaterThanOrEqual(3);

  const deps = stackClients(stack);
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await deps.s3.send(new ListObjectsV2Command({ Bucket: deps.config.aws.bucket, Prefix: 'processed/', ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.NextContinuationToken;
  } while (token);
  // Exactly one result object per completed task, and each decodes.
  expect(keys.sort()).toEqual(completed.map((t) => t.result.key).sort());
  for (const t of completed) {
    const { meta } = await fetchResult(deps, t.result.key);
    expect([meta.width, meta.height]).toEqual([t.result.width, t.result.height]);
    expect(t.attempt_history.filter((a: { outcome?: string }) => a.outcome === 'completed')).toHaveLength(1);
  }
  const status = await fetchWorkersStatus(stack);
  expect(status.tasks.completed).toBe(completed.length);
  expect(status.workers.reduce((a: number, w: { processed: number }) => a + w.processed, 0)).toBe(completed.length);
  const retried = finished.filter((t) => t.attempts > 1).length;
  process.stdout.write(`[soak] ${N} tasks, ${kills.length} kills, ${completed.length} completed, ${N - completed.length} failed, ${retried} needed more than one delivery\n`);
  await closeClients(deps);
}, 300_000);
