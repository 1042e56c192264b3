import { postJson } from '../helpers/batch';
import { parsePrometheus, sampleValue } from '../helpers/prometheus';
import { getJson, sharedStack } from '../helpers/shared-stack';

const { url } = sharedStack();

test('/api/metrics is Prometheus text whose numbers match the JSON endpoints', async () => {
  await postJson(`${url}/api/process-batch/distributed/`, { filters: ['blur'], images: ['sample_4k.jpg', 'misurina-sunset.jpg'] });
  for (let i = 0; i < 3; i++) await getJson(`${url}/api/image/info/`);

  const stats = (await getJson(`${url}/api/stats/`)).body;
  const workers = (await getJson(`${url}/api/workers/status/`)).body;
  const res = await fetch(`${url}/api/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const { samples, types } = parsePrometheus(await res.text());

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
  for (const [route, e] of Object.entries<{ by_status: Record<string, number> }>(stats.requests.by_endpoint)) {
    for (const [status, n] of Object.entries(e.by_status)) {
      const counted = sampleValue(samples, 'http_requests_total', { route, status })!;
      // Requests made after the stats call (workers/status) may only add.
      expect(counted).toBeGreaterThanOrEqual(n);
      if (route !== 'GET /api/workers/status/') expect(counted).toBe(n);
    }
  }
  const infoCount = sampleValue(samples, 'http_request_duration_seconds_count', { route: 'GET /api/image/info/', status: '200' })!;
  expect(infoCount).toBe(sampleValue(samples, 'http_requests_total', { route: 'GET /api/image/info/', status: '200' }));
  expect(sampleValue(samples, 'http_request_duration_seconds_bucket', { route: 'GET /api/image/info/', status: '200', le: '+Inf' })).toBe(infoCount);

  // Histogram buckets are cumulative.
  const buckets = samples.filter((s) => s.name === 'http_request_duration_seconds_bucket' && s.labels.route === 'GET /api/image/info/' && s.labels.status === '200');
  for (let i = 1; i < buckets.length; i++) expect(buckets[i].value).toBeGreaterThanOrEqual(buckets[i - 1].value);

  // Queue depth and task outcomes equal what /api/workers/status/ reports.
  expect(sampleValue(samples, 'pipeline_queue_messages', { queue: 'tasks', state: 'visible' })).toBe(workers.queue.visible);
  expect(sampleValue(samples, 'pipeline_queue_messages', { queue: 'dead_letter', state: 'visible' })).toBe(workers.queue.dead_letter);
  expect(workers.queue.visible).toBeGreaterThanOrEqual(2);
  expect(sampleValue(samples, 'pipeline_tasks_total', { outcome: 'completed' })).toBe(workers.tasks.completed);
  expect(sampleValue(samples, 'pipeline_tasks_total', { outcome: 'failed', failure_type: 'job_failure' })).toBe(workers.tasks.failed_by_type.job_failure);
  expect(sampleValue(samples, 'pipeline_workers_alive', { capability: 'sharpen' })).toBe(0);
});
