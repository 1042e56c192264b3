import { postJson } from '../helpers/batch';
import { sharedStack } from '../helpers/shared-stack';

const { url } = sharedStack();
const DEEP = 100_000;
// Valid JSON, so only a depth limit (not the parser) can refuse it.
const deepBody = `{"filters":["blur"],"images":${'['.repeat(DEEP)}${']'.repeat(DEEP)}}`;

test.each([
  ['distributed, with an Idempotency-Key (hashed before validation used to overflow the stack)', '/api/process-batch/distributed/', { 'idempotency-key': 'deep-json-1' }],
  ['distributed', '/api/process-batch/distributed/', {}],
  ['a batch strategy', '/api/process-batch/sequential/', {}],
  ['redrive', '/api/dlq/redrive/', {}],
])('a body nested 100 000 levels deep is a 400 naming the body: %s', async (_what, path, headers) => {
  const { status, body } = await postJson(`${url}${path}`, deepBody, { 'content-type': 'application/json', ...headers });
  expect(status).toBe(400);
  expect(body.error).toMatchObject({ code: 'validation_error', field: 'body', max_depth: 32 });
  expect(body.error.message).toMatch(/nests .* deeper than 32 levels/);
});

test('a JSON body over 1 MiB is a 413 naming the body and the limit', async () => {
  const { status, body } = await postJson(`${url}/api/process-batch/distributed/`, JSON.stringify({ filters: ['blur'], pad: 'x'.repeat(1024 * 1024) }));
  expect(status).toBe(413);
  expect(body.error).toMatchObject({ code: 'payload_too_large', field: 'body', max_bytes: 1024 * 1024 });
});
