// Cancelling a job mid-way: pending tasks never start, a running one stops at a filter
// boundary or completes, no cancelled task has a result object, and every task ends in
// exactly one terminal state. Cancelling again changes nothing.
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { closeClients } from '../../lib/core/clients';
import { sleep } from '../../lib/core/time';
import { postJson } from '../helpers/batch';
import { getJson, stackClients } from '../helpers/shared-stack';
import { scenarioStack } from '../helpers/workers';
import { waitFor } from '../../scripts/local/processes';
import { taskResultKey } from '../../lib/images/keys';

const scenario = scenarioStack('job-cancel', { POLL_WAIT_S: '1' }, ['worker-3']);
const TERMINAL = ['completed', 'failed', 'cancelled', 'timed_out'];

async function objectExists(key: string): Promise<boolean> {
  const deps = stackClients(scenario.stack);
  try {
    await deps.s3.send(new HeadObjectCommand({ Bucket: deps.config.aws.bucket, Key: key }));
    return true;
  } catch {
    return false;
  } finally {
    await closeClients(deps);
  }
}

test('cancelling a 40-image job mid-way', async () => {
  const url = scenario.stack.url;
  const res = await postJson(`${url}/api/process-batch/distributed/`, { filters: ['sharpen', 'edges', 'blur'], images: Array.from({ length: 40 }, () => 'sample_4k.jpg') });
  expect(res.status).toBe(202);
  const { job_id, task_ids } = res.body;
  // Mid-way: once the first task has completed.
  await waitFor('a first completed task', 60_000, async () => ((await getJson(`${url}/api/jobs/${job_id}/`)).body.counts.completed >= 1 ? true : undefined), 100);
  const cancel = await postJson(`${url}/api/jobs/${job_id}/cancel/`, {});
  expect(cancel.status).toBe(200);
  expect(cancel.body.cancelled).toBeGreaterThanOrEqual(1);
  expect(cancel.body.already_finished).toBeGreaterThanOrEqual(1);
  expect(cancel.body.cancelled + cancel.body.stopping + cancel.body.already_finished).toBe(40);

  const job = await waitFor('the job to end', 60_000, async () => {
    const j = (await getJson(`${url}/api/jobs/${job_id}/`)).body;
    return j.status === 'cancelled' ? j : undefined;
  }, 100);
  const c = job.counts;
  expect(c.cancelled).toBeGreaterThanOrEqual(1);
  expect(c.pending + c.processing).toBe(0);
  expect(c.completed + c.cancelled + c.failed + c.timed_out).toBe(40);

  const tasks = (await getJson(`${url}/api/jobs/${job_id}/tasks/?limit=1000`)).body.tasks;
  expect(tasks.map((t: any) => t.task_id)).toEqual(task_ids);
  for (const t of tasks) expect(TERMINAL).toContain(t.status);
  expect(tasks.filter((t: any) => t.status === 'cancelled')).toHaveLength(c.cancelled);
  expect(tasks.filter((t: any) => t.status === 'completed')).toHaveLength(c.completed);
  for (const t of tasks.filter((t: any) => t.status === 'cancelled')) {
    expect(t.result_key).toBeNull();
    expect(await objectExists(taskResultKey(t.task_id, 'sample_4k.jpg'))).toBe(false);
  }
  for (const t of tasks.filter((t: any) => t.status === 'completed').slice(0, 3)) expect(await objectExists(t.result_key)).toBe(true);
  // Every task's event log agrees: one terminal event per task.
  const events = (await getJson(`${url}/api/jobs/${job_id}/events/?limit=500`)).body.events;
  const terminalEvents = events.filter((e: any) => e.task_id && TERMINAL.includes(e.status));
  expect(terminalEvents).toHaveLength(40);
  expect(new Set(terminalEvents.map((e: any) => e.task_id)).size).toBe(40);
  expect(events.at(-1)).toMatchObject({ type: 'job.cancelled', status: 'cancelled' });

  // Cancelling again is harmless.
  await sleep(300);
  const again = await postJson(`${url}/api/jobs/${job_id}/cancel/`, {});
  expect(again.status).toBe(200);
  expect(again.body).toMatchObject({ cancelled: 0, stopping: 0, already_finished: 40 });
  expect((await getJson(`${url}/api/jobs/${job_id}/`)).body.counts).toEqual(c);
}, 180_000);

test('cancelling one pending task: its worker skips it, the rest of the job goes on', async () => {
  const url = scenario.stack.url;
  const res = await postJson(`${url}/api/process-batch/distributed/`, { filters: ['sharpen', 'edges'], images: Array.from({ length: 6 }, () => 'sample_4k.jpg') });
  const last = res.body.task_ids[5];
  const cancel = await postJson(`${url}/api/task/${last}/cancel/`, {});
  expect(cancel.status).toBe(200);
  expect(cancel.body).toMatchObject({ task_id: last, cancelled: 1, already_finished: 0 });
  const job = await waitFor('the job to end', 60_000, async () => {
    const j = (await getJson(`${url}/api/jobs/${res.body.job_id}/`)).body;
    return ['partial', 'completed', 'cancelled'].includes(j.status) ? j : undefined;
  }, 100);
  expect(job.status).toBe('partial');
  expect(job.counts).toMatchObject({ completed: 5, cancelled: 1 });
  expect(job.failures).toEqual([expect.objectContaining({ task_id: last, status: 'cancelled' })]);
  expect((await getJson(`${url}/api/task/${last}/status/`)).body).toMatchObject({ status: 'cancelled', attempts: 0, result: null });
}, 120_000);

test('cancel of an unknown id is 404, of a malformed one 400 naming the field', async () => {
  const url = scenario.stack.url;
  const unknown = await postJson(`${url}/api/jobs/3f2b8c1e-9d4a-4e7b-8a61-2c5d9e0f1a2b/cancel/`, {});
  expect(unknown.status).toBe(404);
  expect(unknown.body.error.field).toBe('job_id');
  expect((await postJson(`${url}/api/task/3f2b8c1e-9d4a-4e7b-8a61-2c5d9e0f1a2b/cancel/`, {})).status).toBe(404);
  const bad = await postJson(`${url}/api/jobs/not-a-job/cancel/`, {});
  expect(bad.status).toBe(400);
  expect(bad.body.error.field).toBe('job_id');
  expect((await postJson(`${url}/api/task/..%2F..%2Fetc/cancel/`, {})).status).toBe(400);
});
