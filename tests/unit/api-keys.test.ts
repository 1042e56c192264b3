// The one API-key check (lib/core/auth.ts) and the AWS authorizer that wraps it.
import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { apiKeys, authenticate, bearerToken, KeySet } from '../../lib/core/auth';
import { loadConfig } from '../../lib/core/config';
import { UnauthorizedError } from '../../lib/core/errors';

const keys = new KeySet(['alpha-key', 'b']);

test('bearer tokens are read case-insensitively from the scheme, nothing else', () => {
  expect(bearerToken('Bearer abc')).toBe('abc');
  expect(bearerToken('bearer  abc ')).toBe('abc');
  expect(bearerToken('Basic abc')).toBeUndefined();
  expect(bearerToken('Bearer a b')).toBeUndefined();
  expect(bearerToken(undefined)).toBeUndefined();
});

test('missing, malformed and wrong keys are 401; any configured key passes with a digest as principal', () => {
  expect(() => authenticate(keys, undefined)).toThrow(new UnauthorizedError('missing API key: send Authorization: Bearer <key>'));
  for (const bad of ['Bearer alpha-ke', 'Bearer alpha-key2', 'Bearer ', 'alpha-key', 'Bearer B']) expect(() => authenticate(keys, bad)).toThrow('invalid API key');
  const a = authenticate(keys, 'Bearer alpha-key');
  const b = authenticate(keys, 'Bearer b');
  expect(a).toEqual({ kind: 'key', id: expect.stringMatching(/^[0-9a-f]{16}$/) });
  expect(b.kind === 'key' && a.kind === 'key' && a.id !== b.id).toBe(true);
  expect(JSON.stringify(a)).not.toContain('alpha');
});

test('no keys configured: open, everyone is anonymous', () => {
  expect(authenticate(new KeySet([]), undefined)).toEqual({ kind: 'anonymous' });
  expect(authenticate(new KeySet([]), 'Bearer whatever')).toEqual({ kind: 'anonymous' });
});

test('API_KEYS is split on commas; bad keys stop the configuration', () => {
  expect(loadConfig({ API_KEYS: ' k1, k2 ,,' }).auth.keys).toEqual(['k1', 'k2']);
  expect(() => loadConfig({ API_KEYS: 'ok,has space' })).toThrow(/API_KEYS/);
});

test('rate limit: off by default locally, on by default on the aws stage', () => {
  expect(loadConfig({}).auth.rateLimitPerMinute).toBe(0);
  expect(loadConfig({ STAGE: 'aws' }).auth.rateLimitPerMinute).toBe(120);
  expect(loadConfig({ STAGE: 'aws', RATE_LIMIT_PER_MINUTE: '0' }).auth.rateLimitPerMinute).toBe(0);
  expect(() => loadConfig({ RATE_LIMIT_PER_MINUTE: '-1' })).toThrow(/RATE_LIMIT_PER_MINUTE/);
});

test('the secret is read once per TTL, an empty one is refused, a failed read is retried', async () => {
  let reads = 0;
  let value = 'one, two';
  const reader = async () => {
    reads++;
    if (value === 'fail') throw new Error('AccessDenied');
    return value;
  };
  const cfg = loadConfig({ API_KEYS_SECRET: '/image-pipeline/keys-a', API_KEYS_SECRET_TTL_S: '3600' });
  expect((await apiKeys(cfg, reader)).matches('two')).toBe(true);
  expect((await apiKeys(cfg, reader)).matches('one')).toBe(true);
  expect(reads).toBe(1);
  const noCache = loadConfig({ API_KEYS_SECRET: '/image-pipeline/keys-a', API_KEYS_SECRET_TTL_S: '0' });
  value = 'fail';
  await new Promise((r) => setTimeout(r, 5));
  await expect(apiKeys(noCache, reader)).rejects.toThrow('AccessDenied');
  value = '  ';
  await expect(apiKeys(noCache, reader)).rejects.toThrow(/holds no keys/);
  value = 'three';
  expect((await apiKeys(noCache, reader)).matches('three')).toBe(true);
  expect(reads).toBe(4);
});

test('the AWS authorizer allows a right key (principal in context) and denies the rest', async () => {
  process.env.API_KEYS = 'lambda-key';
  const { authorize: handler } = await import('../../handlers/authorizer');
  const event = (authorization?: string) => ({ headers: authorization ? { authorization } : {} }) as unknown as APIGatewayRequestAuthorizerEventV2;
  const ok = await handler(event('Bearer lambda-key'));
  expect(ok).toEqual({ isAuthorized: true, context: { principal: expect.stringMatching(/^[0-9a-f]{16}$/) } });
  expect(await handler(event('Bearer other'))).toEqual({ isAuthorized: false });
  expect(await handler(event())).toEqual({ isAuthorized: false });
});
