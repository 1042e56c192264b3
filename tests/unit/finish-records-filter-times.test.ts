// A completed attempt adds its filters' times to the /api/metrics histograms in the same Redis
// script that records the outcome (finishAttempt's filterTimes): once per completed task, and
// nothing for an attempt that no longer owns its task or that did not complete it.
import type { Clients } from '../../lib/core/clients';
import { bucketIndex } from '../../lib/core/histogram';
import { filterNamesKey, filterTimesKey } from '../../lib/tasks/store';
import { claimTask, finishAttempt } from '../../lib/tasks/store';
import { busyFlag, outcomeCounter } from '../../lib/worker/registry';
import { newTask, withRedisPrefix } from '../helpers/redis-prefix';

let deps: Clients;
withRedisPrefix((d) => {
  deps = d;
});

const histogram = (name: string) => deps.redis.hgetall(filterTimesKey(deps, name));
const times = [
  { name: 'sharpen', ms: 41.5 },
  { name: 'edges', ms: 30 },
  { name: 'sharpen', ms: 2 },
];

test('a completed attempt adds each sample once, with the outcome and the worker counter', async () => {
  const taskId = await newTask(deps);
  const { attempt } = await claimTask(deps, taskId, 'worker-x', busyFlag(deps, 'worker-x'));
  const finished = await finishAttempt(deps, taskId, attempt, 'completed', { status: 'completed', processing_ms: 80 }, outcomeCounter(deps, 'worker-x', 'processed', 80), {
    idle: { key: busyFlag(deps, 'worker-x'), taskId },
    filterTimes: times,
  });
  expect(finished).toBe(true);
  expect((await deps.redis.smembers(filterNamesKey(deps))).sort()).toEqual(['edges', 'sharpen']);
  expect(await histogram('sharpen')).toEqual({ count: '2', sum: '43.5', [bucketIndex(41.5)]: '1', [bucketIndex(2)]: '1' });
  expect(await histogram('edges')).toEqual({ count: '1', sum: '30', [bucketIndex(30)]: '1' });
  expect(await deps.redis.hget(deps.key('worker', 'worker-x'), 'processed')).toBe('1');

  // The same attempt finished again (a duplicate delivery racing it): nothing more.
  expect(await finishAttempt(deps, taskId, attempt, 'completed', { status: 'completed' }, undefined, { filterTimes: times })).toBe(false);
  expect((await histogram('sharpen')).count).toBe('2');
});

test('an attempt that lost its task, or failed it, adds no samples', async () => {
  const times = [{ name: 'blur', ms: 12 }];
  const lost = await newTask(deps);
  await claimTask(deps, lost, 'worker-x');
  await claimTask(deps, lost, 'worker-y');
  expect(await finishAttempt(deps, lost, 1, 'completed', { status: 'completed' }, undefined, { filterTimes: times })).toBe(false);

  const failed = await newTask(deps);
  const { attempt } = await claimTask(deps, failed, 'worker-x');
  expect(await finishAttempt(deps, failed, attempt, 'job_failure', { status: 'failed' }, undefined, { filterTimes: times })).toBe(true);

  expect(await deps.redis.exists(filterTimesKey(deps, 'blur'))).toBe(0);
  expect(await deps.redis.sismember(filterNamesKey(deps), 'blur')).toBe(0);
});
