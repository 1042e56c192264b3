// Bearer API keys on a stack started with API_KEYS, through the real start script.
import { getJson } from '../helpers/shared-stack';
import { startStack, type RunningStack } from '../helpers/stack';

let stack: RunningStack;
beforeAll(async () => {
  stack = await startStack({ API_KEYS: 'first-key-123, second-key-456' }, 'api-keys');
}, 120_000);
afterAll(() => stack?.stop());

const bearer = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });

test('without a key: 401 JSON with WWW-Authenticate: Bearer', async () => {
  const res = await getJson(`${stack.url}/api/workers/status/`);
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
  expect(res.body.error).toMatchObject({ code: 'unauthorized', field: 'authorization' });
});

test('a wrong key, or another scheme, is 401', async () => {
  for (const init of [bearer('first-key-12'), bearer('first-key-1234'), { headers: { authorization: 'Basic Zmlyc3Qta2V5LTEyMw==' } }]) {
    const res = await getJson(`${stack.url}/api/workers/status/`, init);
    expect(res.status).toBe(401);
    expect(res.body.error.message).toBe('invalid API key');
  }
});

test('each configured key is accepted', async () => {
  for (const key of ['first-key-123', 'second-key-456']) {
    const res = await getJson(`${stack.url}/api/workers/status/`, bearer(key));
    expect(res.status).toBe(200);
  }
  const submit = await fetch(`${stack.url}/api/process-batch/distributed/`, {
    method: 'POST',
    headers: { authorization: 'Bearer second-key-456', 'content-type': 'application/json' },
    body: JSON.stringify({ filters: ['blur'] }),
  });
  expect(submit.status).toBe(202);
});

test('metrics are protected', async () => {
  expect((await fetch(`${stack.url}/api/metrics`)).status).toBe(401);
  const res = await fetch(`${stack.url}/api/metrics`, bearer('first-key-123'));
  expect(res.status).toBe(200);
  expect(await res.text()).toContain('# TYPE');
});

test('health, the dashboard page and the API reference stay open', async () => {
  expect((await getJson(`${stack.url}/api/health/`)).status).toBe(200);
  for (const p of ['/', '/dashboard/', '/dashboard/app.js', '/api/openapi.json', '/api/docs/', '/api/docs/swagger-ui.css']) expect({ p, status: (await fetch(`${stack.url}${p}`)).status }).toEqual({ p, status: 200 });
  // Unknown paths are not a way around the key.
  expect((await fetch(`${stack.url}/api/nope/`)).status).toBe(401);
});
