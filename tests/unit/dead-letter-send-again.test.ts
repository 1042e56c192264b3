// Which dead-lettered tasks the sweeper sends back, and that it does so at most once per task:
// a lost worker's task with fewer attempts than MAX_RECEIVE_COUNT (some deliveries never
// started), never poison that claimed every delivery. The marking runs against real Redis.
import type { Clients } from '../../lib/core/clients';
import { claimTask, getTask, markSentAgain, type TaskRecord } from '../../lib/tasks/store';
import { deadLetterEnding, sendsAgain } from '../../lib/worker/sweeper';
import { newTask, withRedisPrefix } from '../helpers/redis-prefix';

let deps: Clients;
withRedisPrefix((d) => {
  deps = d;
});

async function claimedTask(claims: number): Promise<string> {
  const id = await newTask(deps);
  for (let i = 0; i < claims; i++) await claimTask(deps, id, `worker-${i + 1}`);
  return id;
}

const MAX = 3;
const lost = (task: TaskRecord) => deadLetterEnding(task, [])!;

test('a lost worker\'s task with fewer attempts than deliveries is sent back; one that used every delivery is not', async () => {
  const short = (await getTask(deps, await claimedTask(2)))!;
  expect(lost(short).outcome).toBe('worker_lost');
  expect(sendsAgain(short, lost(short), MAX)).toBe(true);

  const poison = (await getTask(deps, await claimedTask(3)))!;
  expect(sendsAgain(poison, lost(poison), MAX)).toBe(false);

  // A pending task whose deliveries all met a Redis outage is not evidence of unstarted
  // deliveries the sweeper can tell apart: it ends failed as before.
  const pending = (await getTask(deps, await claimedTask(0)))!;
  expect(lost(pending).outcome).toBe('dead_lettered');
  expect(sendsAgain(pending, lost(pending), MAX)).toBe(false);
});

test('marking puts the task back to pending with the lost attempt recorded, once', async () => {
  const id = await claimedTask(1);
  expect(await markSentAgain(deps, id, 2, 'wrong attempt')).toBe(false);
  expect(await markSentAgain(deps, id, 1, 'sent back')).toBe(true);
  const task = (await getTask(deps, id))!;
  expect(task).toMatchObject({ status: 'pending', attempts: 1, last_error: 'sent back' });
  expect(task.attempt_history.map((a) => a.outcome)).toEqual(['worker_lost']);
  expect(Date.parse(task.sent_again_at!)).toBeGreaterThan(Date.now() - 60_000);
  expect(sendsAgain({ ...task, status: 'processing' }, lost({ ...task, status: 'processing' }), MAX)).toBe(false);

  // Its next delivery dies too: still processing on attempt 2, but it was sent back before.
  await claimTask(deps, id, 'worker-9');
  expect(await markSentAgain(deps, id, 2, 'sent back again')).toBe(false);
  expect((await getTask(deps, id))!.status).toBe('processing');
});
