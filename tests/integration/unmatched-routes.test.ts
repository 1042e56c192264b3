import { randomBytes } from 'node:crypto';
import { parsePrometheus, sampleValue } from '../helpers/prometheus';
import { getJson, sharedStack, stackClients } from '../helpers/shared-stack';

const stack = sharedStack();
const { url } = stack;
const deps = stackClients(stack);
afterAll(() => deps.redis.quit());

async function keysUnderPrefix(): Promise<Set<string>> {
  const keys = new Set<string>();
  let cursor = '0';
  do {
    const [next, batch] = await deps.redis.scan(cursor, 'MATCH', `${deps.config.redis.prefix}:*`, 'COUNT', 1000);
    batch.forEach((k) => keys.add(k));
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

async function requestSamples() {
  const { samples } = parsePrometheus(await (await fetch(`${url}/api/metrics`)).text());
  return samples.filter((s) => s.name.startsWith('http_request'));
}

async function requestSeries(): Promise<Set<string>> {
  return new Set((await requestSamples()).map((s) => `${s.name}${JSON.stringify(s.labels)}`));
}

test('300 random unknown URLs are counted under one unmatched route: a handful of Redis keys and Prometheus series, not one per path', async () => {
  // One request first, so keys every request writes (since, instance record) exist before counting.
  await getJson(`${url}/api/warm-up-${randomBytes(4).toString('hex')}/`);
  const keysBefore = await keysUnderPrefix();
  const seriesBefore = await requestSeries();

  const paths = Array.from({ length: 300 }, () => `/junk/${randomBytes(6).toString('hex')}/${randomBytes(3).toString('hex')}`);
  for (let i = 0; i < paths.length; i += 20) {
    const answers = await Promise.all(paths.slice(i, i + 20).map((p) => getJson(`${url}${p}`)));
    for (const a of answers) expect(a.status).toBe(404);
  }

  const added = [...(await keysUnderPrefix())].filter((k) => !keysBefore.has(k));
  expect(added.length).toBeLessThanOrEqual(5);
  expect(added.filter((k) => k.includes('/junk/'))).toEqual([]);
  const newSeries = [...(await requestSeries())].filter((s) => !seriesBefore.has(s));
  // One route|status pair at most: its counter plus one histogram (buckets, sum, count).
  expect(newSeries.length).toBeLessThanOrEqual(20);
  expect(newSeries.filter((s) => s.includes('/junk/'))).toEqual([]);

  // Counted, not dropped: all of them under the one route (read from /api/metrics, which the
  // metrics test compares with /api/stats/, so this test leaves /api/stats/'s own count alone).
  expect(sampleValue(await requestSamples(), 'http_requests_total', { route: 'unmatched', status: '404' })).toBeGreaterThanOrEqual(301);
});
