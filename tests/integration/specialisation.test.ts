// The seed's "Testing Worker Specialization": worker-3 stopped, five sharpen tasks sent at once.
import { scenarioStack, submit, terminal, waitForTask, fetchWorkersStatus } from '../helpers/workers';

const scenario = scenarioStack('specialisation', { HEARTBEAT_INTERVAL_S: '1', POLL_WAIT_S: '1' }, ['worker-1', 'worker-2', 'worker-3']);
const workers = scenario.workers;

test('with worker-3 stopped, sharpen tasks fail on worker-1 and complete on worker-2: distribution by timing', async () => {
  const worker3 = workers.find((w) => w.id === 'worker-3')!;
  expect(await worker3.stop('SIGTERM')).toBe(0);
  expect(worker3.output()).toMatch(/worker-3 stopped/);
  const before = await fetchWorkersStatus(scenario.stack);
  expect(before.workers.find((w: { id: string }) => w.id === 'worker-3')).toMatchObject({ alive: false, status: 'stopped' });

  const ids = (await Promise.all(Array.from({ length: 5 }, () => submit(scenario.stack, { filters: ['sharpen'] })))).flat();
  expect(ids).toHaveLength(5);
  const results = await Promise.all(ids.map((id) => waitForTask(scenario.stack, id, terminal, 60_000)));

  const completed = results.filter((t) => t.status === 'completed');
  const failed = results.filter((t) => t.status === 'failed');
  expect(completed.length + failed.length).toBe(5);
  for (const t of completed) expect(t.worker_id).toBe('worker-2');
  for (const t of failed) {
    expect(t).toMatchObject({ worker_id: 'worker-1', failure_type: 'job_failure', failure_reason: 'worker_capability_mismatch', error: "Worker worker-1 cannot handle filters: ['sharpen']" });
  }
  // worker-1 answers a mismatch in milliseconds while worker-2 spends ~0.5 s per 4K sharpen,
  // so worker-1 wins some races and worker-2 others.
  expect(failed.length).toBeGreaterThanOrEqual(1);
  expect(completed.length).toBeGreaterThanOrEqual(1);

  const after = await fetchWorkersStatus(scenario.stack);
  const byId = Object.fromEntries(after.workers.map((w: { id: string }) => [w.id, w]));
  expect(byId['worker-1'].failed).toBe(failed.length);
  expect(byId['worker-2'].processed).toBe(completed.length);
  expect(after.tasks).toMatchObject({ completed: completed.length, failed: failed.length, failed_by_type: { job_failure: failed.length, worker_failure: 0 } });
  expect(after.tasks.success_rate).toBeCloseTo(completed.length / 5, 3);
  expect(after.queue).toMatchObject({ visible: 0, in_flight: 0, dead_letter: 0 });
}, 90_000);
