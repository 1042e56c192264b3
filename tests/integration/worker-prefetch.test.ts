// A worker takes the next message, and reads its image, while it processes the current one
// (WORKER_PREFETCH, on by default). The held task stays pending (not claimed, not counted
// as an attempt) until its turn; on SIGTERM a held message goes back to the queue at once
// instead of after the visibility timeout, and another worker completes it on attempt 1.
import { closeClients, type Clients } from '../../lib/core/clients';
import { queueDepth, taskQueueUrl } from '../../lib/tasks/queues';
import { getTasks, type TaskRecord } from '../../lib/tasks/store';
import { waitFor } from '../../scripts/local/processes';
import { stackClients } from '../helpers/shared-stack';
import { fetchTaskStatus, scenarioStack, startWorker, submit, terminal, waitForTask } from '../helpers/workers';

// A visibility timeout far longer than the test: a held message that was not handed back
// could only come back after it, so the second worker finishing in time shows the hand-back.
const VISIBILITY_S = 300;
const scenario = scenarioStack('worker-prefetch', { POLL_WAIT_S: '1', VISIBILITY_TIMEOUT_S: String(VISIBILITY_S) }, ['worker-3']);
let deps: Clients;
/** Twenty full-size sharpen passes (the most a request takes): over 1 s a task here. */
const SLOW = Array(20).fill('sharpen');
/**
 * When a task's image work (fetch, decode, filters) ended, from its record: before that, a
 * second message in flight shows prefetch; after it, the next message is taken anyway while
 * the result is stored. Judged after the fact, so a slow host only makes the window longer.
 */
const imageDoneAt = (t: TaskRecord) => Date.parse(t.finished_at!) - t.timings!.store_ms;
const taskRecord = async (id: string) => (await getTasks(deps, [id]))[0];

beforeAll(() => {
  deps = stackClients(scenario.stack);
});
afterAll(async () => {
  await closeClients(deps);
});

test('the next message is held, unclaimed, while an image is processed, and handed back on SIGTERM', async () => {
  const [holder] = scenario.workers;
  const queueUrl = await taskQueueUrl(deps);
  // Two slow tasks in one submission: both are queued before the worker's next poll.
  const ids = await submit(scenario.stack, { filters: SLOW, images: ['sample_4k.jpg', 'sample_4k.jpg'] });
  expect(ids).toHaveLength(2);

  // While one task is processing, both messages are in flight: the other was taken ahead,
  // yet its task is still pending, with no attempt recorded.
  const [first, held, seenAt] = await waitFor('one task processing and the other message taken ahead', 30_000, async () => {
    const depth = await queueDepth(deps, queueUrl);
    const tasks = await getTasks(deps, ids);
    const processing = tasks.find((t) => t.status === 'processing');
    const other = tasks.find((t) => t !== processing);
    if (!processing || other?.status !== 'pending') return undefined;
    return depth.in_flight === 2 && depth.visible === 0 ? ([processing, other, Date.now()] as const) : undefined;
  }, 20);
  expect(held.attempts).toBe(0);
  expect(held.worker_id).toBeNull();

  const stoppedAt = Date.now();
  expect(await holder.stop('SIGTERM')).toBe(0);
  // The task it had started is finished; the one it held is back in the queue, untouched.
  expect(await fetchTaskStatus(scenario.stack, first.task_id)).toMatchObject({ status: 'completed', worker_id: holder.id, attempts: 1 });
  // Both messages were in flight before the first task's image work was done.
  expect(seenAt).toBeLessThan(imageDoneAt(await taskRecord(first.task_id)));
  expect(await fetchTaskStatus(scenario.stack, held.task_id)).toMatchObject({ status: 'pending', attempts: 0 });
  expect(await queueDepth(deps, queueUrl)).toEqual({ visible: 1, in_flight: 0 });

  const next = await startWorker(scenario.stack, 'worker-prefetch-next', { WORKER_CAPABILITIES: 'all' });
  scenario.workers.push(next);
  const done = await waitForTask(scenario.stack, held.task_id, terminal, 60_000);
  expect(done).toMatchObject({ status: 'completed', worker_id: next.id, attempts: 1 });
  expect(done.result.key).toBe(`processed/${held.task_id}/sample_4k.jpg`);
  expect(Date.now() - stoppedAt).toBeLessThan(VISIBILITY_S * 1000);
  expect(await next.stop('SIGTERM')).toBe(0);
}, 120_000);

test('WORKER_PREFETCH=false: the next message stays in the queue until the current image is done', async () => {
  const worker = await startWorker(scenario.stack, 'worker-no-prefetch', { WORKER_CAPABILITIES: 'all', WORKER_PREFETCH: 'false' });
  scenario.workers.push(worker);
  const queueUrl = await taskQueueUrl(deps);
  const ids = await submit(scenario.stack, { filters: SLOW, images: ['sample_4k.jpg', 'sample_4k.jpg'] });
  // Sampled while one task is processing and the other pending; judged below by whether the
  // processing task's image work was still under way: then the other message is not taken.
  const seen: { in_flight: number; task_id: string; at: number }[] = [];
  await waitFor('both tasks finished', 60_000, async () => {
    const depth = await queueDepth(deps, queueUrl);
    const tasks = await getTasks(deps, ids);
    const processing = tasks.find((t) => t.status === 'processing');
    if (processing && tasks.some((t) => t.status === 'pending')) seen.push({ in_flight: depth.in_flight, task_id: processing.task_id, at: Date.now() });
    return tasks.every(terminal) ? tasks : undefined;
  }, 20);
  const done = new Map((await getTasks(deps, ids)).map((t) => [t.task_id, imageDoneAt(t)]));
  const duringImageWork = seen.filter((s) => s.at < done.get(s.task_id)!);
  expect(duringImageWork.length).toBeGreaterThan(0);
  expect(duringImageWork.every((d) => d.in_flight <= 1)).toBe(true);
  for (const id of ids) expect(await fetchTaskStatus(scenario.stack, id)).toMatchObject({ status: 'completed', worker_id: worker.id, attempts: 1 });
}, 120_000);
