import { getJson } from '../helpers/shared-stack';
import { runId, startStack, type RunningStack } from '../helpers/stack';

// Two API processes sharing one emulator and one Redis prefix, as two replicas behind a load balancer.
let a: RunningStack;
let b: RunningStack;

beforeAll(async () => {
  const prefix = runId();
  a = await startStack({ REDIS_PREFIX: prefix }, 'stats-a');
  b = await startStack(
    {
      REDIS_PREFIX: prefix,
      AWS_ENDPOINT_URL: `http://127.0.0.1:${a.env.EMULATOR_PORT}`,
      QUEUE_NAME: a.env.QUEUE_NAME,
      DLQ_NAME: a.env.DLQ_NAME,
      BUCKET_NAME: a.env.BUCKET_NAME,
    },
    'stats-b',
  );
}, 120_000);

afterAll(async () => {
  await Promise.all([b?.stop(), a?.stop()]);
});

test('GET /api/stats/ reports one total across API processes', async () => {
  for (let i = 0; i < 3; i++) expect((await getJson(`${a.url}/api/image/info/`)).status).toBe(200);
  for (let i = 0; i < 2; i++) expect((await getJson(`${b.url}/api/image/info/`)).status).toBe(200);
  expect((await getJson(`${b.url}/api/image/info/?name=nope.jpg`)).status).toBe(404);

  const fromA = (await getJson(`${a.url}/api/stats/`)).body;
  const fromB = (await getJson(`${b.url}/api/stats/`)).body;
  for (const stats of [fromA, fromB]) {
    const info = stats.requests.by_endpoint['GET /api/image/info/'];
    expect(info.total).toBe(6);
    expect(info.by_status).toEqual({ '200': 5, '404': 1 });
    expect(info.latency_ms.count).toBe(6);
    expect(info.latency_ms.p50).toBeGreaterThan(0);
    expect(info.latency_ms.p95).toBeGreaterThanOrEqual(info.latency_ms.p50);
    expect(info.latency_ms.mean).toBeGreaterThan(0);
    expect(stats.requests.in_flight).toBeGreaterThanOrEqual(0);
    expect(stats.system.cpus).toBeGreaterThan(0);
    expect(stats.this_instance.memory_mb.rss).toBeGreaterThan(0);
  }
  // B's stats call ran after A's, so it also counts A's stats request.
  expect(fromB.requests.total).toBe(fromA.requests.total + 1);
  const pids = new Set(fromB.instances.map((i: { pid: number }) => i.pid));
  expect(pids.size).toBeGreaterThanOrEqual(2);
});
