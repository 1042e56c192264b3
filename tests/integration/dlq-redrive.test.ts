// A task whose worker died on its last allowed delivery lands in the DLQ; it can be
// listed and redriven, and then completes.
import { getJson } from '../helpers/shared-stack';
import { postJson } from '../helpers/batch';
import { scenarioStack, startWorker, submit, fetchTaskStatus, terminal, waitForTask, fetchWorkersStatus } from '../helpers/workers';
import { waitFor } from '../../scripts/local/processes';

// The redriven run must finish inside VISIBILITY_TIMEOUT_S, or its one allowed delivery is used
// up and SQS dead-letters a copy (workers do not extend visibility): 2 s was too short for this
// 4K chain on a loaded host.
const scenario = scenarioStack('dlq-redrive', { HEARTBEAT_INTERVAL_S: '1', POLL_WAIT_S: '1', VISIBILITY_TIMEOUT_S: '8', MAX_RECEIVE_COUNT: '1' }, ['worker-3']);
const workers = scenario.workers;

test('dead-lettered by a crash, listed, redriven, completed', async () => {
  const [id] = await submit(scenario.stack, { filters: ['sharpen', 'sharpen', 'sharpen', 'edges'] });
  await waitForTask(scenario.stack, id, (t) => t.status === 'processing', 20_000);
  await workers[0].stop('SIGKILL');
  workers.push(await startWorker(scenario.stack, 'worker-3'));

  // Its one delivery is used up: SQS dead-letters it, and the status says so.
  const dead = await waitFor('dead letter', 30_000, async () => {
    const q = (await fetchWorkersStatus(scenario.stack)).queue;
    return q.dead_letter >= 1 ? q : undefined;
  }, 250);
  expect(dead.dead_letter).toBe(1);
  const failed = await waitForTask(scenario.stack, id, terminal, 20_000);
  expect(failed).toMatchObject({ status: 'failed', failure_type: 'worker_failure', failure_reason: 'worker_lost' });

  const listed = await getJson(`${scenario.stack.url}/api/dlq/`);
  expect(listed.status).toBe(200);
  expect(listed.body.count).toBe(1);
  expect(listed.body.messages[0]).toMatchObject({ task_id: id, image: 'sample_4k.jpg', filters: ['sharpen', 'sharpen', 'sharpen', 'edges'], task_status: 'failed', readable: true });
  expect((await getJson(`${scenario.stack.url}/api/dlq/?max=500`)).status).toBe(400);

  // At once: the listing hid the message for a second, and the redrive waits for it.
  const redrive = await postJson(`${scenario.stack.url}/api/dlq/redrive/`, {});
  expect(redrive.status).toBe(200);
  expect(redrive.body).toMatchObject({ redriven: 1, task_ids: [id] });

  const done = await waitForTask(scenario.stack, id, terminal, 30_000);
  expect(done).toMatchObject({ status: 'completed', worker_id: 'worker-3', attempts: 2 });
  const status = await fetchWorkersStatus(scenario.stack);
  expect(status.queue.dead_letter).toBe(0);
  // The failure was undone, so the task counts once.
  expect(status.tasks).toMatchObject({ completed: 1, failed: 0, failed_by_type: { worker_failure: 0 } });
  expect((await fetchTaskStatus(scenario.stack, id)).failure_type).toBeUndefined();
}, 120_000);
