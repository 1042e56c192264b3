// GET /api/jobs/: newest first, cursor-paginated, filtered by status, with a bounded limit.
import { postJson } from '../helpers/batch';
import { getJson, sharedStack } from '../helpers/shared-stack';

const url = sharedStack().url;

test('jobs come newest first, a page at a time, and filter by status', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await postJson(`${url}/api/process-batch/distributed/`, { filters: ['blur'] })).body.job_id);
  const first = await getJson(`${url}/api/jobs/?limit=3`);
  expect(first.status).toBe(200);
  expect(first.body.jobs.map((j: any) => j.job_id)).toEqual(ids.slice(2).reverse());
  expect(first.body.next_cursor).toEqual(expect.any(String));
  const second = await getJson(`${url}/api/jobs/?limit=2&cursor=${first.body.next_cursor}`);
  expect(second.body.jobs.map((j: any) => j.job_id)).toEqual(ids.slice(0, 2).reverse());
  for (const j of first.body.jobs) expect(j).toMatchObject({ status: 'pending', counts: { total: 1, pending: 1 }, filters: ['blur'], job_url: `/api/jobs/${j.job_id}/` });
  const pending = await getJson(`${url}/api/jobs/?status=pending&limit=100`);
  for (const id of ids) expect(pending.body.jobs.map((j: any) => j.job_id)).toContain(id);
  const completed = await getJson(`${url}/api/jobs/?status=completed&limit=100`);
  for (const id of ids) expect(completed.body.jobs.map((j: any) => j.job_id)).not.toContain(id);
});

test.each([
  ['limit=0', 'limit', 'limit must be an integer from 1 to 100'],
  ['limit=101', 'limit', 'limit must be an integer from 1 to 100'],
  ['status=done', 'status', 'status must be one of pending, running, completed, failed, partial, cancelled, timed_out'],
  ['cursor=zzz', 'cursor', 'cursor must be the next_cursor of a previous page'],
])('GET /api/jobs/?%s is a 400 naming %s', async (query, field, message) => {
  const res = await getJson(`${url}/api/jobs/?${query}`);
  expect(res.status).toBe(400);
  expect(res.body.error).toMatchObject({ field, message: expect.stringContaining(message) });
});

test('a job view of an unknown id is 404; a malformed id 400', async () => {
  expect((await getJson(`${url}/api/jobs/3f2b8c1e-9d4a-4e7b-8a61-2c5d9e0f1a2b/`)).status).toBe(404);
  const bad = await getJson(`${url}/api/jobs/x/`);
  expect(bad.status).toBe(400);
  expect(bad.body.error.field).toBe('job_id');
});
