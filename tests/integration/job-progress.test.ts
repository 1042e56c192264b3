// A submission is a job: its counts sum to its total at every read while two workers work
// through it, and it ends completed with every result listed and decodable.
import { fetchResult, postJson } from '../helpers/batch';
import { getJson, stackClients } from '../helpers/shared-stack';
import { scenarioStack } from '../helpers/workers';
import { sleep } from '../../lib/core/time';
import { closeClients } from '../../lib/core/clients';

// Two workers race through the job's tasks: the counts change in the same Redis script as each task.
const scenario = scenarioStack('job-progress', { POLL_WAIT_S: '1' }, ['worker-1', 'worker-3']);
const IMAGES = Array.from({ length: 30 }, (_, i) => (i % 2 ? 'sample_4k.jpg' : 'misurina-sunset.jpg'));

test('a 30-image job: counts sum to 30 at every poll, status goes pending → running → completed, 30 decodable results', async () => {
  const url = scenario.stack.url;
  const res = await postJson(`${url}/api/process-batch/distributed/`, { filters: ['resize'], filter_params: { resize: { width: 320, height: 240 } }, images: IMAGES });
  expect(res.status).toBe(202);
  const { job_id, job_url, batch_id, task_ids } = res.body;
  expect(job_id).toMatch(/^[0-9a-f-]{36}$/);
  expect(batch_id).toBe(job_id);
  expect(job_url).toBe(`/api/jobs/${job_id}/`);
  expect(task_ids).toHaveLength(30);

  const seen = new Set<string>();
  let job: any;
  const deadline = Date.now() + 120_000;
  for (;;) {
    const r = await getJson(`${url}${job_url}`);
    expect(r.status).toBe(200);
    job = r.body;
    const c = job.counts;
    expect(c.total).toBe(30);
    expect(c.pending + c.processing + c.completed + c.failed + c.cancelled + c.timed_out).toBe(30);
    seen.add(job.status);
    if (job.status === 'completed' || Date.now() > deadline) break;
    await sleep(50);
  }
  expect(job.status).toBe('completed');
  expect([...seen].every((s) => ['pending', 'running', 'completed'].includes(s))).toBe(true);
  expect(seen.has('running')).toBe(true);
  expect(job.counts).toEqual({ total: 30, pending: 0, processing: 0, completed: 30, failed: 0, cancelled: 0, timed_out: 0 });
  expect(job.finished_at).not.toBeNull();
  expect(job.failures).toEqual([]);
  expect(job.results).toHaveLength(30);
  expect(new Set(job.results.map((r: any) => r.task_id))).toEqual(new Set(task_ids));
  const deps = stackClients(scenario.stack);
  try {
    for (const r of job.results.slice(0, 5)) {
      expect(r).toMatchObject({ status: 'completed', format: 'jpeg', width: 320, height: 240 });
      const { meta, bytes } = await fetchResult(deps, r.key);
      expect(meta.format).toBe('jpeg');
      expect([meta.width, meta.height]).toEqual([320, 240]);
      expect(bytes.length).toBe(r.bytes);
      // The presigned URL serves the same object.
      const viaUrl = Buffer.from(await (await fetch(r.url)).arrayBuffer());
      expect(viaUrl.equals(bytes)).toBe(true);
    }
  } finally {
    await closeClients(deps);
  }
  // The job's tasks by state.
  const tasks = await getJson(`${url}/api/jobs/${job_id}/tasks/?status=completed&limit=10`);
  expect(tasks.status).toBe(200);
  expect(tasks.body.tasks).toHaveLength(10);
  expect(tasks.body.tasks.map((t: any) => t.task_id)).toEqual(task_ids.slice(0, 10));
  const rest = await getJson(`${url}/api/jobs/${job_id}/tasks/?status=completed&limit=100&cursor=${tasks.body.next_cursor}`);
  expect(rest.body.tasks.map((t: any) => t.task_id)).toEqual(task_ids.slice(10));
  expect(rest.body.next_cursor).toBeNull();
  expect((await getJson(`${url}/api/jobs/${job_id}/tasks/?status=failed`)).body.tasks).toEqual([]);
  const all = (await getJson(`${url}/api/jobs/${job_id}/tasks/?limit=1000`)).body.tasks;
  expect(new Set(all.map((t: any) => t.worker_id))).toEqual(new Set(['worker-1', 'worker-3']));
}, 180_000);
