// /api/metrics against the JSON endpoints on a stack with a real worker that completed and
// failed tasks, so every compared figure is non-zero (comparing 0 with 0 proves nothing).
import { postJson } from '../helpers/batch';
import { parsePrometheus, sampleValue } from '../helpers/prometheus';
import { getJson } from '../helpers/shared-stack';
import { scenarioStack, submit, terminal, waitForTask } from '../helpers/workers';

// fifo dispatch (the default): worker-1 (resize, blur, brightness) takes a sharpen task too
// and fails it as a job failure, the seed's Day-3 scenario.
const scenario = scenarioStack('metrics', { HEARTBEAT_INTERVAL_S: '1', POLL_WAIT_S: '1' }, ['worker-1']);

async function scrape(url: string) {
  const res = await fetch(`${url}/api/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheus(await res.text());
}

test('/api/metrics is Prometheus text whose non-zero figures match the JSON endpoints', async () => {
  const { url } = scenario.stack;
  const blurred = await submit(scenario.stack, { filters: ['blur'], images: ['sample_4k.jpg', 'misurina-sunset.jpg'] });
  const [sharpened] = await submit(scenario.stack, { filters: ['sharpen'] });
  const done = await Promise.all([...blurred, sharpened].map((id) => waitForTask(scenario.stack, id, terminal, 60_000)));
  expect(done.map((t) => t.status)).toEqual(['completed', 'completed', 'failed']);
  expect(done[2].failure_type).toBe('job_failure');
  for (let i = 0; i < 3; i++) await getJson(`${url}/api/image/info/`);

  const stats = (await getJson(`${url}/api/stats/`)).body;
  const workers = (await getJson(`${url}/api/workers/status/`)).body;
  const { samples, types } = await scrape(url);

  expect(types).toMatchObject({
    http_requests_total: 'counter',
    http_request_duration_seconds: 'histogram',
    pipeline_tasks_total: 'counter',
    pipeline_filter_duration_seconds: 'histogram',
    pipeline_queue_messages: 'gauge',
    pipeline_workers_alive: 'gauge',
    pipeline_worker_heartbeat_age_seconds: 'gauge',
  });

  // Requests: the counter equals /api/stats/ for every route and status it had seen.
  const endpoints = Object.entries<{ by_status: Record<string, number> }>(stats.requests.by_endpoint);
  expect(stats.requests.by_endpoint['GET /api/image/info/'].by_status['200']).toBe(3);
  expect(stats.requests.by_endpoint['POST /api/process-batch/distributed/'].by_status['202']).toBe(2);
  for (const [route, e] of endpoints) {
    for (const [status, n] of Object.entries(e.by_status)) {
      const counted = sampleValue(samples, 'http_requests_total', { route, status })!;
      // Requests made after the stats call (workers/status, task polls) may only add.
      expect(counted).toBeGreaterThanOrEqual(n);
      if (route !== 'GET /api/workers/status/') expect(counted).toBe(n);
    }
  }
  const infoCount = sampleValue(samples, 'http_request_duration_seconds_count', { route: 'GET /api/image/info/', status: '200' })!;
  expect(infoCount).toBe(3);
  expect(sampleValue(samples, 'http_requests_total', { route: 'GET /api/image/info/', status: '200' })).toBe(infoCount);
  expect(sampleValue(samples, 'http_request_duration_seconds_bucket', { route: 'GET /api/image/info/', status: '200', le: '+Inf' })).toBe(infoCount);
  const buckets = samples.filter((s) => s.name === 'http_request_duration_seconds_bucket' && s.labels.route === 'GET /api/image/info/' && s.labels.status === '200');
  for (let i = 1; i < buckets.length; i++) expect(buckets[i].value).toBeGreaterThanOrEqual(buckets[i - 1].value);

  // Task outcomes: 2 completed, 1 job failure, in both.
  expect(workers.tasks.completed).toBe(2);
  expect(workers.tasks.failed_by_type.job_failure).toBe(1);
  expect(sampleValue(samples, 'pipeline_tasks_total', { outcome: 'completed' })).toBe(workers.tasks.completed);
  expect(sampleValue(samples, 'pipeline_tasks_total', { outcome: 'failed', failure_type: 'job_failure' })).toBe(workers.tasks.failed_by_type.job_failure);
  expect(sampleValue(samples, 'pipeline_tasks_total', { outcome: 'failed', failure_type: 'worker_failure' })).toBe(workers.tasks.failed_by_type.worker_failure);

  // Filter timings: one blur sample per completed task, summing to the tasks' own filter_ms.
  expect(sampleValue(samples, 'pipeline_filter_duration_seconds_count', { filter: 'blur' })).toBe(2);
  const blurMs = done.slice(0, 2).flatMap((t) => t.filter_ms).filter((f: { name: string }) => f.name === 'blur').reduce((a: number, f: { ms: number }) => a + f.ms, 0);
  expect(blurMs).toBeGreaterThan(0);
  expect(sampleValue(samples, 'pipeline_filter_duration_seconds_sum', { filter: 'blur' })).toBeCloseTo(blurMs / 1000, 2);

  // Workers: worker-1 alive, counted under its capabilities only, with a heartbeat age.
  const w1 = workers.workers.find((w: { id: string }) => w.id === 'worker-1');
  expect(w1).toMatchObject({ alive: true, processed: 2 });
  for (const f of ['resize', 'blur', 'brightness']) expect(sampleValue(samples, 'pipeline_workers_alive', { capability: f })).toBe(1);
  for (const f of ['sharpen', 'edges']) expect(sampleValue(samples, 'pipeline_workers_alive', { capability: f })).toBe(0);
  expect(sampleValue(samples, 'pipeline_worker_up', { worker: 'worker-1' })).toBe(1);
  expect(sampleValue(samples, 'pipeline_worker_heartbeat_age_seconds', { worker: 'worker-1' })).toBeGreaterThanOrEqual(0);

  // Queue depth: with the worker stopped, two new tasks wait, and both sources say so.
  await scenario.workers[0].stop('SIGTERM');
  await postJson(`${url}/api/process-batch/distributed/`, { filters: ['blur'], images: ['sample_4k.jpg', 'misurina-sunset.jpg'] });
  const queued = (await getJson(`${url}/api/workers/status/`)).body;
  const after = (await scrape(url)).samples;
  expect(queued.queue.visible).toBe(2);
  expect(sampleValue(after, 'pipeline_queue_messages', { queue: 'tasks', state: 'visible' })).toBe(queued.queue.visible);
  expect(sampleValue(after, 'pipeline_queue_messages', { queue: 'dead_letter', state: 'visible' })).toBe(queued.queue.dead_letter);
}, 120_000);
