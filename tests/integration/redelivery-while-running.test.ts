// A task longer than the visibility timeout comes back from the queue while its worker still
// runs it. Delivered to that same worker, it is kept rather than started again: the attempt
// in progress is not claimed away from itself (its work thrown out, attempt 2 on the same
// machine), and the message is deleted with its newest receipt handle, so the queue empties.
import { closeClients, type Clients } from '../../lib/core/clients';
import { queueDepth, taskQueueUrl } from '../../lib/tasks/queues';
import { sleep } from '../../lib/core/time';
import { waitFor } from '../../scripts/local/processes';
import { stackClients } from '../helpers/shared-stack';
import { fetchTaskStatus, fetchWorkersStatus, scenarioStack, submit, terminal, waitForTask } from '../helpers/workers';

const VISIBILITY_S = 1;
const scenario = scenarioStack('redelivery-while-running', { POLL_WAIT_S: '1', VISIBILITY_TIMEOUT_S: String(VISIBILITY_S) }, ['worker-3']);
let deps: Clients;
beforeAll(() => {
  deps = stackClients(scenario.stack);
});
afterAll(() => closeClients(deps));

test('a message that comes back to the worker still running its task is kept, not run twice', async () => {
  // Four Gaussian blurs of σ 100 on the 4K sample: ~0.7 s each here, several visibility timeouts.
  const [id] = await submit(scenario.stack, { filters: ['blur', 'blur', 'blur', 'blur'], filter_params: { blur: { radius: 100 } } });
  const done = await waitForTask(scenario.stack, id, terminal, 60_000);

  expect(done).toMatchObject({ status: 'completed', attempts: 1, worker_id: 'worker-3' });
  expect(done.attempt_history).toEqual([expect.objectContaining({ attempt: 1, outcome: 'completed' })]);
  const [worker] = scenario.workers;
  expect(worker.output()).toMatch(new RegExp(`task ${id} came back from the queue while this worker still has it \\(VISIBILITY_TIMEOUT_S ${VISIBILITY_S} s ran out\\); kept, not started again`));

  // Deleted by its newest handle: nothing in the queue, and nothing comes back to claim it again.
  const queueUrl = await taskQueueUrl(deps);
  await waitFor('an empty task queue', 10_000, async () => {
    const d = await queueDepth(deps, queueUrl);
    return d.visible + d.in_flight === 0 ? true : undefined;
  }, 100);
  await sleep(VISIBILITY_S * 1000 * 2 + 500);
  expect(await fetchTaskStatus(scenario.stack, id)).toMatchObject({ status: 'completed', attempts: 1 });
  const workers = await fetchWorkersStatus(scenario.stack);
  expect(workers.workers.find((w: { id: string }) => w.id === 'worker-3')).toMatchObject({ processed: 1 });
}, 120_000);
