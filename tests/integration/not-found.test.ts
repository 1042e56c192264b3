import { getJson, sharedStack } from '../helpers/shared-stack';

const { url } = sharedStack();

test('an unknown path gets a JSON 404 in the API error shape', async () => {
  const { status, body } = await getJson(`${url}/api/no-such-endpoint/`);
  expect(status).toBe(404);
  expect(body.error.code).toBe('not_found');
  // serverless-offline drops the trailing slash from rawPath; API Gateway keeps it.
  expect(body.error.message).toMatch(/GET \/api\/no-such-endpoint\/?;/);
});

test('a wrong method on a known path is not served as if it were GET', async () => {
  const { status, body } = await getJson(`${url}/api/health/`, { method: 'DELETE' });
  expect(status).toBe(404);
  expect(body.error.message).toContain('DELETE');
});
