// A worker killed with SIGKILL mid-task: the message reappears after the visibility
// timeout and another capable worker completes the task; nothing is lost.
import { scenarioStack, submit, fetchTaskStatus, terminal, waitForTask } from '../helpers/workers';

const scenario = scenarioStack('crash-recovery', { HEARTBEAT_INTERVAL_S: '1', POLL_WAIT_S: '1', VISIBILITY_TIMEOUT_S: '4' }, ['worker-2', 'worker-3']);
const workers = scenario.workers;

test('SIGKILL mid-task: another worker completes it on attempt 2', async () => {
  // Several full-size OpenCV passes: long enough to be caught mid-flight.
  const [id] = await submit(scenario.stack, { filters: ['sharpen', 'sharpen', 'sharpen', 'edges'] });
  const processing = await waitForTask(scenario.stack, id, (t) => t.status === 'processing', 20_000);
  const victim = workers.find((w) => w.id === processing.worker_id)!;
  expect(await victim.stop('SIGKILL')).toBe('SIGKILL');

  // Still in flight until the visibility timeout: it says who had it.
  const meanwhile = await fetchTaskStatus(scenario.stack, id);
  expect(['processing', 'pending']).toContain(meanwhile.status);

  const done = await waitForTask(scenario.stack, id, terminal, 40_000);
  const survivor = workers.find((w) => w !== victim)!;
  expect(done.status).toBe('completed');
  expect(done.attempts).toBe(2);
  expect(done.worker_id).toBe(survivor.id);
  expect(done.attempt_history.map((a: { worker_id: string }) => a.worker_id)).toEqual([victim.id, survivor.id]);
  expect(done.attempt_history[0].outcome).toBeUndefined();
  expect(done.attempt_history[1].outcome).toBe('completed');
  expect(done.result.key).toBe(`processed/${id}/sample_4k.jpg`);
}, 90_000);

test('SIGTERM mid-task is graceful: the worker finishes the task, deregisters and exits 0', async () => {
  const survivor = workers.find((w) => w.child.exitCode === null && w.child.signalCode === null)!;
  const [id] = await submit(scenario.stack, { filters: ['sharpen', 'sharpen', 'edges'] });
  await waitForTask(scenario.stack, id, (t) => t.status === 'processing', 20_000);
  expect(await survivor.stop('SIGTERM')).toBe(0);
  const done = await fetchTaskStatus(scenario.stack, id);
  expect(done).toMatchObject({ status: 'completed', worker_id: survivor.id, attempts: 1 });
  expect(survivor.output()).toMatch(/finishing the current task then stopping[\s\S]*stopped/);
}, 60_000);
