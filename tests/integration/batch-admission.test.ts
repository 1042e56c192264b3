import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { postJson } from '../helpers/batch';
import { getJson } from '../helpers/shared-stack';
import { startStack, type RunningStack } from '../helpers/stack';

const PIXELS_4K = 3840 * 2160;
// One 16x4K batch at a time: the other five must wait (2 s at most) and be refused.
const BUDGET = 16 * PIXELS_4K;
// The sizing in docs/configuration.md ("Memory admission"): at most ~1.8 bytes of RSS per admitted pixel measured; 3 leaves margin
// (without admission the six batches overshoot this bound: ~1379 MB against ~1137 MB).
const BYTES_PER_ADMITTED_PIXEL = 3;
const STRATEGIES = ['sequential', 'threading', 'multiprocessing'];

let stack: RunningStack;
let apiPid: number;

/** The API: the `serverless.js offline` child of the start process. */
function findApiPid(startPid: number): number {
  const children = execFileSync('ps', ['--ppid', String(startPid), '-o', 'pid=,args=']).toString().trim().split('\n');
  const line = children.find((l) => l.includes('serverless.js offline'));
  if (!line) throw new Error(`no serverless.js offline child of ${startPid}: ${children.join(' | ')}`);
  return Number(line.trim().split(/\s+/)[0]);
}

function memoryKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]);
}

beforeAll(async () => {
  stack = await startStack({ BATCH_PIXEL_BUDGET: String(BUDGET) }, 'batch-admission');
  apiPid = findApiPid(stack.pid);
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

test('a batch larger than the whole budget is a 413 naming the limit', async () => {
  const { status, body } = await postJson(`${stack.url}/api/process-batch/sequential/`, { images: ['sample_4k.jpg', 'sample_4k.jpg'], copies: 16, filters: ['blur'] });
  expect(status).toBe(413);
  expect(body.error.code).toBe('payload_too_large');
  expect(body.error.message).toContain('BATCH_PIXEL_BUDGET');
  expect(body.error.budget).toBe(BUDGET);
  expect(body.error.pixels).toBe(32 * PIXELS_4K);
});

test('6 concurrent 16x4K batches: each is 200 or 503 with Retry-After, RSS stays within the budget, health is OK after', async () => {
  // Warm the pool and the codecs so the baseline includes the fixed cost of each strategy.
  for (const s of STRATEGIES) expect((await postJson(`${stack.url}/api/process-batch/${s}/`, { images: ['sample_4k.jpg'], filters: ['sharpen', 'edges'] })).status).toBe(200);
  const baselineKb = memoryKb(apiPid, 'VmRSS');

  const body = { images: ['sample_4k.jpg'], copies: 16, filters: ['sharpen', 'edges'] };
  const answers = await Promise.all(
    Array.from({ length: 6 }, (_, i) => fetch(`${stack.url}/api/process-batch/${STRATEGIES[i % 3]}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })),
  );
  const peakKb = memoryKb(apiPid, 'VmHWM');
  const boundKb = baselineKb + (BUDGET * BYTES_PER_ADMITTED_PIXEL) / 1024;
  const statuses = answers.map((r) => r.status);
  console.log(`batch admission: statuses ${statuses.join(',')}; API RSS baseline ${Math.round(baselineKb / 1024)} MB, peak ${Math.round(peakKb / 1024)} MB, bound ${Math.round(boundKb / 1024)} MB`);
  expect(peakKb).toBeLessThanOrEqual(boundKb);

  for (const res of answers) {
    const json = await res.json();
    if (res.status === 200) {
      expect(json.results).toHaveLength(16);
    } else {
      expect([503, 429]).toContain(res.status);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(json.error.code).toBe('overloaded');
      expect(json.error.message).toContain('BATCH_PIXEL_BUDGET');
    }
  }
  expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(1);

  const health = await getJson(`${stack.url}/api/health/`);
  expect(health.status).toBe(200);
}, 300_000);
