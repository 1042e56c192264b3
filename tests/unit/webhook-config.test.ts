import { statSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../lib/core/config';
import { ensureWebhookSecret } from '../../scripts/local/webhook-secret';

test('defaults: retries after 1, 5, 30, 120 and 600 s, 5 s per attempt, private addresses allowed locally only', () => {
  expect(loadConfig({}).webhooks).toMatchObject({ secret: undefined, secretRef: undefined, retryScheduleS: [1, 5, 30, 120, 600], timeoutMs: 5000, allowPrivate: true });
  expect(loadConfig({ STAGE: 'aws' }).webhooks.allowPrivate).toBe(false);
  expect(loadConfig({ STAGE: 'aws', WEBHOOK_ALLOW_PRIVATE: 'true' }).webhooks.allowPrivate).toBe(true);
  expect(loadConfig({ WEBHOOK_RETRY_SCHEDULE: '0.2, 0.2,0.2' }).webhooks.retryScheduleS).toEqual([0.2, 0.2, 0.2]);
  expect(loadConfig({ WEBHOOK_RETRY_SCHEDULE: 'none' }).webhooks.retryScheduleS).toEqual([]);
  expect(loadConfig({ WEBHOOK_SECRET: 'a-local-secret-of-some-length' }).webhooks.secret).toBe('a-local-secret-of-some-length');
});

test.each([
  [{ WEBHOOK_RETRY_SCHEDULE: '1,,5' }, /WEBHOOK_RETRY_SCHEDULE must be "none" or a comma list of 1 to 20 delays in seconds, each from 0 to 86400/],
  [{ WEBHOOK_RETRY_SCHEDULE: '1,-5' }, /WEBHOOK_RETRY_SCHEDULE must be/],
  [{ WEBHOOK_RETRY_SCHEDULE: '1,5m' }, /WEBHOOK_RETRY_SCHEDULE must be/],
  [{ WEBHOOK_RETRY_SCHEDULE: '90000' }, /WEBHOOK_RETRY_SCHEDULE must be/],
  [{ WEBHOOK_RETRY_SCHEDULE: Array(21).fill('1').join(',') }, /WEBHOOK_RETRY_SCHEDULE must be/],
  [{ WEBHOOK_TIMEOUT_MS: '50' }, /WEBHOOK_TIMEOUT_MS must be an integer from 100 to 30000, got "50"/],
  [{ WEBHOOK_ALLOW_PRIVATE: 'sometimes' }, /WEBHOOK_ALLOW_PRIVATE must be true\/false/],
  [{ WEBHOOK_SECRET: 'short' }, /WEBHOOK_SECRET must be 16-512 printable ASCII characters without spaces \(got 5 characters\)/],
  [{ WEBHOOK_SECRET: 'a-local-secret-of-some-length', WEBHOOK_SECRET_REF: '/image-pipeline/webhook' }, /set WEBHOOK_SECRET or WEBHOOK_SECRET_REF, not both/],
  [{ STAGE: 'aws', WEBHOOK_SECRET: 'a-local-secret-of-some-length' }, /WEBHOOK_SECRET is plain text: on the aws stage set WEBHOOK_SECRET_REF/],
])('%j is refused with a message naming the variable', (env, message) => {
  expect(() => loadConfig(env)).toThrow(ConfigError);
  expect(() => loadConfig(env)).toThrow(message);
});

describe('the secret npm start generates', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'webhook-secret-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('is created once, readable by its owner only, and the same on every later start', () => {
    const file = path.join(dir, 'nested', 'webhook-secret');
    const first = ensureWebhookSecret(file);
    expect(first).toMatchObject({ created: true, path: file });
    expect(first.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toBe(first.secret);
    // A generated secret is one loadConfig accepts as WEBHOOK_SECRET.
    expect(loadConfig({ WEBHOOK_SECRET: first.secret }).webhooks.secret).toBe(first.secret);
    const again = ensureWebhookSecret(file);
    expect(again).toEqual({ ...first, created: false });
    expect(ensureWebhookSecret(path.join(dir, 'other')).secret).not.toBe(first.secret);
  });

  test('a file others could read is made private again; one without a secret is refused, naming it', () => {
    const file = path.join(dir, 'webhook-secret');
    writeFileSync(file, 'an-existing-secret-value-1234\n');
    chmodSync(file, 0o644);
    expect(ensureWebhookSecret(file)).toMatchObject({ secret: 'an-existing-secret-value-1234', created: false });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    writeFileSync(file, 'x\n');
    expect(() => ensureWebhookSecret(file)).toThrow(`${file} does not hold a webhook secret (16-512 printable characters); delete it to have a new one generated`);
  });
});
