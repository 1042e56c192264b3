import { randomUUID } from 'node:crypto';
import { postJson } from '../helpers/batch';
import { getJson, sharedStack } from '../helpers/shared-stack';

const { url } = sharedStack();
const endpoint = `${url}/api/process-batch/distributed/`;
const headers = (key: string) => ({ 'content-type': 'application/json', 'idempotency-key': key });
const visible = async () => (await getJson(`${url}/api/workers/status/`)).body.queue.visible as number;

test('the same key and body return the same task ids and enqueue once', async () => {
  const key = randomUUID();
  const body = { filters: ['blur'], images: ['sample_4k.jpg', 'misurina-sunset.jpg'] };
  const first = await postJson(endpoint, body, headers(key));
  expect(first.status).toBe(202);
  const depth = await visible();
  // Same body, keys in another order: still the same request.
  const again = await postJson(endpoint, { images: body.images, filters: body.filters }, headers(key));
  expect(again.status).toBe(202);
  expect(again.body.task_ids).toEqual(first.body.task_ids);
  expect(again.headers.get('idempotent-replayed')).toBe('true');
  expect(await visible()).toBe(depth);
});

test('the same key with a different body is a 422', async () => {
  const key = randomUUID();
  expect((await postJson(endpoint, { filters: ['blur'] }, headers(key))).status).toBe(202);
  const other = await postJson(endpoint, { filters: ['sharpen'] }, headers(key));
  expect(other.status).toBe(422);
  expect(other.body.error).toMatchObject({ code: 'unprocessable', field: 'Idempotency-Key' });
});

test('concurrent retries with one key create one set of tasks', async () => {
  const key = randomUUID();
  const before = await visible();
  const answers = await Promise.all(Array.from({ length: 6 }, () => postJson(endpoint, { filters: ['resize'] }, headers(key))));
  const accepted = answers.filter((a) => a.status === 202);
  expect(accepted.length).toBeGreaterThanOrEqual(1);
  for (const a of answers) expect([202, 409]).toContain(a.status);
  expect(new Set(accepted.map((a) => a.body.task_id)).size).toBe(1);
  expect(await visible()).toBe(before + 1);
});

test('a refused request frees its key, and a bad key is a 400', async () => {
  const key = randomUUID();
  expect((await postJson(endpoint, { filters: ['sepia'] }, headers(key))).status).toBe(400);
  expect((await postJson(endpoint, { filters: ['blur'] }, headers(key))).status).toBe(202);
  const bad = await postJson(endpoint, { filters: ['blur'] }, headers('has space'));
  expect(bad.status).toBe(400);
  expect(bad.body.error.field).toBe('Idempotency-Key');
});
