import sharp from 'sharp';
import { closeClients } from '../../lib/core/clients';
import { fetchResult, postJson } from '../helpers/batch';
import { sharedStack, stackClients } from '../helpers/shared-stack';

const { url, env } = sharedStack();
const deps = stackClients();
afterAll(() => closeClients(deps));

type Result = { key: string; url: string; width: number; height: number; bytes: number; image: string; filters: { name: string; ms: number }[] };

async function expectStored(results: Result[], runId: string, strategy: string, size?: [number, number]) {
  expect(results.length).toBeGreaterThanOrEqual(2);
  for (const r of results) {
    expect(r.key.startsWith(`processed/${runId}/${strategy}/`)).toBe(true);
    const { bytes, meta } = await fetchResult(deps, r.key);
    expect(bytes.length).toBe(r.bytes);
    expect([meta.width, meta.height]).toEqual([r.width, r.height]);
    if (size) expect([r.width, r.height]).toEqual(size);
    // The presigned URL serves the same bytes.
    const viaUrl = Buffer.from(await (await fetch(r.url)).arrayBuffer());
    expect(viaUrl.equals(bytes)).toBe(true);
  }
}

test('sequential: the seed body, resize 800x600 + blur 3.0', async () => {
  const { status, body } = await postJson(`${url}/api/process-batch/sequential/`, {
    filters: ['resize', 'blur'],
    filter_params: { resize: { width: 800, height: 600 }, blur: { radius: 3.0 } },
  });
  expect(status).toBe(200);
  expect(body.strategy).toBe('sequential');
  expect(body.filters.map((f: { name: string }) => f.name)).toEqual(['resize', 'blur']);
  expect(body.results.map((r: Result) => r.image).sort()).toEqual(['misurina-sunset.jpg', 'sample_4k.jpg']);
  expect(body.results[0].filters.map((f: { name: string }) => f.name)).toEqual(['resize', 'blur']);
  expect(body.totals.images).toBe(2);
  expect(body.totals.wall_ms).toBeGreaterThan(0);
  expect(body.totals.images_per_s).toBeGreaterThan(0);
  expect(body.resources.memory_mb.rss_peak).toBeGreaterThanOrEqual(body.resources.memory_mb.rss_start);
  expect(body.resources.cpu.cores).toBeGreaterThan(0);
  expect(body.resources.event_loop.utilization).toBeGreaterThanOrEqual(0);
  expect(body.resources.threadpool_size).toBe(4);
  await expectStored(body.results, body.run_id, 'sequential', [800, 600]);
});

test('threading: the seed body, sharpen + edges (full-size greyscale outlines)', async () => {
  const { status, body } = await postJson(`${url}/api/process-batch/threading/`, { filters: ['sharpen', 'edges'] });
  expect(status).toBe(200);
  expect(body.resources.concurrency).toBe(4);
  await expectStored(body.results, body.run_id, 'threading');
  const sample = body.results.find((r: Result) => r.image === 'sample_4k.jpg');
  expect([sample.width, sample.height]).toEqual([3840, 2160]);
  const { bytes } = await fetchResult(deps, sample.key);
  const stats = await sharp(bytes).stats();
  expect(stats.channels[0].mean).toBeLessThan(60);
});

test('multiprocessing: the seed body, brightness 1.5 brightens', async () => {
  const { status, body } = await postJson(`${url}/api/process-batch/multiprocessing/`, { filters: ['brightness'], filter_params: { brightness: { factor: 1.5 } } });
  expect(status).toBe(200);
  expect(body.resources.pool).toMatchObject({ threads: body.resources.pool_threads });
  expect(body.resources.pool_threads).toBeGreaterThanOrEqual(1);
  await expectStored(body.results, body.run_id, 'multiprocessing');
  const sample = body.results.find((r: Result) => r.image === 'sample_4k.jpg');
  const after = (await sharp((await fetchResult(deps, sample.key)).bytes).stats()).channels[0].mean;
  const original = Buffer.from(await (await fetch(`${url}/api/image/4k/`)).arrayBuffer());
  const before = (await sharp(original).stats()).channels[0].mean;
  expect(after / before).toBeGreaterThan(1.2);
});

test('compare-all: the seed body; three strategies, speed-ups vs sequential, a verdict', async () => {
  const { status, body } = await postJson(`${url}/api/process-batch/compare-all/`, { filters: ['resize', 'blur'] });
  expect(status).toBe(200);
  expect(Object.keys(body.strategies)).toEqual(['sequential', 'threading', 'multiprocessing']);
  expect(body.speedups.baseline).toBe('sequential');
  expect(body.speedups.sequential).toBe(1);
  for (const s of ['threading', 'multiprocessing']) {
    expect(body.speedups[s]).toBeCloseTo(body.strategies.sequential.wall_ms / body.strategies[s].wall_ms, 1);
    await expectStored(body.strategies[s].results, body.run_id, s, [800, 600]);
  }
  expect(body.workload).toBe('io-bound');
  expect(['sequential', 'threading', 'multiprocessing']).toContain(body.winner);
  expect(body.verdict).toMatch(new RegExp(`^${body.winner} won this io-bound run`));
});

test('compare: threading vs multiprocessing only', async () => {
  // edges (Canny in OpenCV.js) is a CPU-bound filter: it holds the JS thread.
  const { status, body } = await postJson(`${url}/api/process-batch/compare/`, { filters: ['edges'], images: ['sample_4k.jpg'], copies: 2 });
  expect(status).toBe(200);
  expect(Object.keys(body.strategies)).toEqual(['threading', 'multiprocessing']);
  expect(body.images).toBe(2);
  expect(body.workload).toBe('cpu-bound');
  expect(body.verdict).toMatch(/WASM on the JS thread/);
});

test('stress: the seed body, 5 iterations with per-iteration times and a memory verdict', async () => {
  const { status, body } = await postJson(`${url}/api/process-batch/stress/`, { filters: ['sharpen', 'edges'], num_iterations: 5 });
  expect(status).toBe(200);
  expect(body.iterations).toHaveLength(5);
  expect(body.summary.iterations).toBe(5);
  const walls = body.iterations.map((i: { wall_ms: number }) => i.wall_ms).sort((a: number, b: number) => a - b);
  expect(body.summary.p50_ms).toBe(walls[2]);
  expect(body.summary.p95_ms).toBe(walls[4]);
  expect(body.summary.mean_ms).toBeCloseTo(walls.reduce((a: number, b: number) => a + b, 0) / 5, 0);
  expect(typeof body.memory.grew).toBe('boolean');
  expect(body.memory.grew).toBe(false);
  await expectStored(body.results, body.run_id, body.strategy);
  expect(env.BUCKET_NAME).toBeTruthy();
}, 120_000);
