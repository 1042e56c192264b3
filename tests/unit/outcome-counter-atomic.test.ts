// A worker's processed/failed counter is written by the same Redis script that records the
// task's outcome (finishAttempt with outcomeCounter). Two separate writes let a worker killed
// between them leave a completed task uncounted (seen in crash-soak); one script counts each
// recorded outcome exactly once, and never one that was not recorded.
import type { Clients } from '../../lib/core/clients';
import { claimTask, finishAttempt, getTask } from '../../lib/tasks/store';
import { outcomeCounter } from '../../lib/worker/registry';
import { newTask, withRedisPrefix } from '../helpers/redis-prefix';

let deps: Clients;
withRedisPrefix((d) => {
  deps = d;
});

async function claimedTask(): Promise<{ taskId: string; attempt: number }> {
  const taskId = await newTask(deps);
  const { attempt } = await claimTask(deps, taskId, 'worker-x');
  return { taskId, attempt };
}

const workerHash = () => deps.redis.hgetall(deps.key('worker', 'worker-x'));

test('the outcome and the worker counter land together, once; a stale or repeated finish counts nothing', async () => {
  const { taskId, attempt } = await claimedTask();
  const counter = outcomeCounter(deps, 'worker-x', 'processed', 120.5);
  expect(await finishAttempt(deps, taskId, attempt, 'completed', { status: 'completed', processing_ms: 120.5 }, counter)).toBe(true);
  expect((await getTask(deps, taskId))?.status).toBe('completed');
  expect(await workerHash()).toMatchObject({ processed: '1', processing_ms_sum: '120.5' });

  // The same attempt finished again (a redelivery racing the first), and an older attempt: no count.
  expect(await finishAttempt(deps, taskId, attempt, 'completed', { status: 'completed' }, counter)).toBe(false);
  expect(await finishAttempt(deps, taskId, attempt - 1, 'completed', { status: 'completed' }, counter)).toBe(false);
  expect(await workerHash()).toMatchObject({ processed: '1', processing_ms_sum: '120.5' });

  // A failure adds to 'failed' without touching the processing time; no counter, no count.
  const failed = await claimedTask();
  expect(await finishAttempt(deps, failed.taskId, failed.attempt, 'job_failure', { status: 'failed' }, outcomeCounter(deps, 'worker-x', 'failed'))).toBe(true);
  const silent = await claimedTask();
  expect(await finishAttempt(deps, silent.taskId, silent.attempt, 'completed', { status: 'completed' })).toBe(true);
  expect(await workerHash()).toEqual({ processed: '1', processing_ms_sum: '120.5', failed: '1' });
});
