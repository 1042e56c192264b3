// deadline_s: a job on a stopped fleet (the shared stack runs no workers) ends timed_out; the
// tasks say why, and their messages are skipped when a worker finally takes them.
import { postJson } from '../helpers/batch';
import { getJson, sharedStack } from '../helpers/shared-stack';
import { waitFor } from '../../scripts/local/processes';

const url = sharedStack().url;

test('a deadline_s job on a stopped fleet ends timed_out', async () => {
  const res = await postJson(`${url}/api/process-batch/distributed/`, { filters: ['blur'], images: ['sample_4k.jpg', 'misurina-sunset.jpg'], deadline_s: 1 });
  expect(res.status).toBe(202);
  const deadlineAt = Date.parse(res.body.deadline_at);
  expect(deadlineAt - Date.now()).toBeLessThanOrEqual(1000);
  expect((await getJson(`${url}${res.body.job_url}`)).body).toMatchObject({ status: 'pending', deadline_at: res.body.deadline_at });
  const job = await waitFor('the job to time out', 15_000, async () => {
    const j = (await getJson(`${url}${res.body.job_url}`)).body;
    return j.status === 'timed_out' ? j : undefined;
  }, 200);
  expect(Date.parse(job.finished_at)).toBeGreaterThanOrEqual(deadlineAt);
  expect(job.counts).toEqual({ total: 2, pending: 0, processing: 0, completed: 0, failed: 0, cancelled: 0, timed_out: 2 });
  expect(job.failures.map((f: any) => f.status)).toEqual(['timed_out', 'timed_out']);
  const task = (await getJson(`${url}/api/task/${res.body.task_ids[0]}/status/`)).body;
  expect(task).toMatchObject({ status: 'timed_out', attempts: 0 });
  expect(task.explanation).toBe(`The job deadline (${res.body.deadline_at}) passed before the task ran`);
}, 30_000);

test.each([
  [0, 'deadline_s must be an integer from 1 to 86400'],
  [1e9, 'deadline_s must be an integer from 1 to 86400'],
  [1.5, 'deadline_s must be an integer from 1 to 86400'],
  ['60', 'deadline_s must be an integer from 1 to 86400'],
])('deadline_s %p is refused with 400 naming the field, and nothing is enqueued', async (deadline_s, message) => {
  const before = (await getJson(`${url}/api/jobs/?limit=1`)).body.jobs[0]?.job_id;
  const res = await postJson(`${url}/api/process-batch/distributed/`, { filters: ['blur'], deadline_s });
  expect(res.status).toBe(400);
  expect(res.body.error.field).toBe('deadline_s');
  expect(res.body.error.message).toContain(message);
  expect((await getJson(`${url}/api/jobs/?limit=1`)).body.jobs[0]?.job_id).toBe(before);
});
