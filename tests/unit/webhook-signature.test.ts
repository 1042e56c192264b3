import { createHmac } from 'node:crypto';
import { signWebhook, verifyWebhookSignature } from '../../lib/jobs/webhook-signature';

const SECRET = 'whsec_unit-test-secret-0123456789';
const BODY = '{"type":"job.created","job_id":"3f1c2b9e-8d7a-4c6b-9e5f-1a2b3c4d5e6f","status":"queued","seq":1}';
const T = 1_800_000_000;
const NOW = T * 1000;

test('the header is t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">', () => {
  const expected = createHmac('sha256', SECRET).update(`${T}.${BODY}`).digest('hex');
  expect(signWebhook(SECRET, BODY, T)).toBe(`t=${T},v1=${expected}`);
});

test('a fresh signature over the exact body verifies, from a string or the raw bytes', () => {
  const header = signWebhook(SECRET, BODY, T);
  expect(verifyWebhookSignature(SECRET, header, BODY, { now: NOW })).toEqual({ ok: true, timestamp: T });
  expect(verifyWebhookSignature(SECRET, header, Buffer.from(BODY), { now: NOW + 299_000 })).toEqual({ ok: true, timestamp: T });
});

test('outside the 5-minute tolerance (either way) it is refused; a custom tolerance applies', () => {
  const header = signWebhook(SECRET, BODY, T);
  expect(verifyWebhookSignature(SECRET, header, BODY, { now: NOW + 301_000 })).toMatchObject({ ok: false, reason: 'too_old' });
  expect(verifyWebhookSignature(SECRET, header, BODY, { now: NOW - 301_000 })).toMatchObject({ ok: false, reason: 'too_new' });
  expect(verifyWebhookSignature(SECRET, header, BODY, { now: NOW + 61_000, toleranceS: 60 })).toMatchObject({ ok: false, reason: 'too_old' });
  expect(verifyWebhookSignature(SECRET, header, BODY, { now: NOW + 59_000, toleranceS: 60 })).toMatchObject({ ok: true });
});

test('a tampered body, a wrong secret or a re-stamped t is a mismatch', () => {
  const header = signWebhook(SECRET, BODY, T);
  expect(verifyWebhookSignature(SECRET, header, BODY.replace('queued', 'completed'), { now: NOW })).toMatchObject({ ok: false, reason: 'mismatch' });
  expect(verifyWebhookSignature(SECRET, header, `${BODY} `, { now: NOW })).toMatchObject({ ok: false, reason: 'mismatch' });
  expect(verifyWebhookSignature('whsec_another-secret-0123456789', header, BODY, { now: NOW })).toMatchObject({ ok: false, reason: 'mismatch' });
  // Replaying an old request with a new timestamp: the signature covers t.
  const restamped = header.replace(`t=${T}`, `t=${T + 600}`);
  expect(verifyWebhookSignature(SECRET, restamped, BODY, { now: (T + 600) * 1000 })).toMatchObject({ ok: false, reason: 'mismatch' });
});

test('any one of several v1 signatures may match (key rotation); unknown schemes are ignored', () => {
  const good = signWebhook(SECRET, BODY, T).split(',v1=')[1];
  const other = signWebhook('whsec_old-secret-abcdefghijklmn', BODY, T).split(',v1=')[1];
  expect(verifyWebhookSignature(SECRET, `t=${T},v1=${other},v1=${good},v0=zzz`, BODY, { now: NOW })).toMatchObject({ ok: true });
});

test.each([
  [undefined, 'missing'],
  ['', 'missing'],
  ['v1=abc', 'malformed'],
  [`t=${T}`, 'malformed'],
  [`t=soon,v1=${'a'.repeat(64)}`, 'malformed'],
  [`t=${T},v1=${'a'.repeat(63)}`, 'malformed'],
])('header %j is refused as %s', (header, reason) => {
  expect(verifyWebhookSignature(SECRET, header, BODY, { now: NOW })).toMatchObject({ ok: false, reason });
});
