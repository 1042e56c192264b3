import { postJson } from '../helpers/batch';
import { sharedStack } from '../helpers/shared-stack';

const { url } = sharedStack();

test('the multiprocessing pool is created once and reused across requests', async () => {
  const body = { filters: ['resize'], images: ['sample_4k.jpg'], copies: 2 };
  const first = (await postJson(`${url}/api/process-batch/multiprocessing/`, body)).body;
  const second = (await postJson(`${url}/api/process-batch/multiprocessing/`, body)).body;
  expect(first.resources.pool.id).toBe(second.resources.pool.id);
  expect(first.resources.pool.created_at).toBe(second.resources.pool.created_at);
  expect(second.resources.pool.runs).toBeGreaterThan(first.resources.pool.runs);
  expect(second.resources.pool.completed_tasks).toBeGreaterThanOrEqual(first.resources.pool.completed_tasks + 2);
  // Work ran on pool threads, not on the API's thread (id 0).
  for (const r of [...first.results, ...second.results]) expect(r.thread_id).toBeGreaterThan(0);
});
