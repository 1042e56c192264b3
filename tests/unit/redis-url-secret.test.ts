// REDIS_URL_SECRET: a deployed function reads its Redis URL (password and all) from SSM at cold
// start instead of carrying it in its configuration. The SDK talks to a local server speaking
// SSM's JSON protocol; the URL it hands out points at the real Redis.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runId } from '../helpers/stack';

const PARAMETER = 'arn:aws:ssm:us-east-1:123456789012:parameter/image-pipeline/redis-url';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const requests: string[] = [];
let answer: { status: number; value?: string } = { status: 200, value: REDIS_URL };
let server: http.Server;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      requests.push(`${req.headers['x-amz-target']} ${JSON.parse(body).Name}`);
      res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(answer.status === 200 ? { Parameter: { Name: PARAMETER, Type: 'SecureString', Value: answer.value, Version: 1 } } : { __type: 'InternalServerError', message: 'down' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SSM: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    REDIS_URL_SECRET: PARAMETER,
    REDIS_URL: '',
    REDIS_PREFIX: runId(),
    LOG_LEVEL: 'silent',
  });
});
afterAll(async () => {
  const { readyClients, closeClients } = await import('../../lib/core/clients');
  await closeClients(await readyClients());
  await new Promise((r) => server.close(r));
});

/** GET /api/stats/ as API Gateway (payload 2.0) delivers it: a handler that needs Redis only. */
function statsEvent() {
  return {
    version: '2.0',
    routeKey: 'GET /api/stats/',
    rawPath: '/api/stats/',
    rawQueryString: '',
    headers: {},
    requestContext: { http: { method: 'GET', path: '/api/stats/', sourceIp: '127.0.0.1' }, requestId: 'r1', routeKey: 'GET /api/stats/' },
    isBase64Encoded: false,
  };
}

test('REDIS_URL and REDIS_URL_SECRET together are refused', async () => {
  const { loadConfig } = await import('../../lib/core/config');
  expect(() => loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', REDIS_URL_SECRET: PARAMETER })).toThrow('set REDIS_URL_SECRET or REDIS_URL, not both');
});

test('an unreadable secret is a 503 naming it, not a crash; the next request reads it again', async () => {
  const { read } = await import('../../handlers/stats');
  const stats = () => read(statsEvent() as never) as Promise<{ statusCode: number; body: string; headers: Record<string, string> }>;
  answer = { status: 500 };
  const failed = await stats();
  expect(failed.statusCode).toBe(503);
  expect(JSON.parse(failed.body).error).toMatchObject({ code: 'dependency_unavailable', dependency: 'secrets' });
  expect(failed.headers['x-request-id']).toBeDefined();
  answer = { status: 200, value: REDIS_URL };
  const ok = await stats();
  expect(ok.statusCode).toBe(200);
});

test('the clients connect to the Redis named in the secret, read once per process', async () => {
  const { readyClients } = await import('../../lib/core/clients');
  const before = requests.length;
  const deps = await readyClients();
  expect(await deps.redis.ping()).toBe('PONG');
  expect(await readyClients()).toBe(deps);
  expect(requests.length).toBe(before);
  expect(requests[requests.length - 1]).toBe(`AmazonSSM.GetParameter ${PARAMETER}`);
});

test('a secret that holds no redis:// URL is refused without echoing it', async () => {
  const { loadConfig } = await import('../../lib/core/config');
  const { redisUrl } = await import('../../lib/core/clients');
  answer = { status: 200, value: 'http://user:hunter2@example.com' };
  const err = await redisUrl(loadConfig({ REDIS_URL_SECRET: PARAMETER })).catch((e: Error) => e);
  expect(String(err)).toContain(`REDIS_URL_SECRET ${PARAMETER} must hold a redis:// or rediss:// URL`);
  expect(String(err)).not.toContain('hunter2');
});
