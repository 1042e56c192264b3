/**
 * Webhook signatures, Stripe-style. Every delivery carries
 *
 *   X-Pipeline-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 *
 * The timestamp is inside the signed text, so a captured request cannot be replayed later with a
 * fresh `t`; a receiver refuses signatures older (or newer) than its tolerance. The header may
 * carry several v1 entries (a receiver accepts the request when any one matches) so a key can
 * be rotated without a gap. This module depends on node:crypto only, so a receiver can copy it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Pipeline-Signature';
/** The receiver's default replay window: 5 minutes either side of its clock. */
export const DEFAULT_TOLERANCE_S = 300;

function hmacHex(secret: string, timestamp: number, rawBody: string | Buffer): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex');
}

/** The header value for `rawBody` signed at `timestampS` (unix seconds; now by default). */
export function signWebhook(secret: string, rawBody: string | Buffer, timestampS: number = Math.floor(Date.now() / 1000)): string {
  return `t=${timestampS},v1=${hmacHex(secret, timestampS, rawBody)}`;
}

export type SignatureCheck =
  | { ok: true; timestamp: number }
  | { ok: false; reason: 'missing' | 'malformed' | 'too_old' | 'too_new' | 'mismatch'; message: string };

export interface VerifyOptions {
  /** Seconds a signature stays acceptable either side of `now`: 300 by default; 0 = no check. */
  toleranceS?: number;
  /** The receiver's clock in ms since the epoch (Date.now() by default). */
  now?: number;
}

/**
 * Checks a delivery's X-Pipeline-Signature against the raw request body (the bytes as received,
 * before any JSON parsing: re-serialising changes them). Constant-time comparison.
 */
export function verifyWebhookSignature(secret: string, header: string | undefined | null, rawBody: string | Buffer, opts: VerifyOptions = {}): SignatureCheck {
  if (!header) return { ok: false, reason: 'missing', message: `no ${SIGNATURE_HEADER} header` };
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(value);
  }
  if (timestamp === undefined || signatures.length === 0) {
    return { ok: false, reason: 'malformed', message: `${SIGNATURE_HEADER} must be t=<unix seconds>,v1=<64 hex digits>` };
  }
  const toleranceS = opts.toleranceS ?? DEFAULT_TOLERANCE_S;
  const nowS = (opts.now ?? Date.now()) / 1000;
  if (toleranceS > 0 && timestamp < nowS - toleranceS) {
    return { ok: false, reason: 'too_old', message: `signed ${Math.round(nowS - timestamp)} s ago; the tolerance is ${toleranceS} s` };
  }
  if (toleranceS > 0 && timestamp > nowS + toleranceS) {
    return { ok: false, reason: 'too_new', message: `signed ${Math.round(timestamp - nowS)} s in the future; the tolerance is ${toleranceS} s` };
  }
  const expected = Buffer.from(hmacHex(secret, timestamp, rawBody), 'hex');
  let match = false;
  for (const s of signatures) match = timingSafeEqual(expected, Buffer.from(s, 'hex')) || match;
  if (!match) return { ok: false, reason: 'mismatch', message: 'no v1 signature matches this body and secret' };
  return { ok: true, timestamp };
}
