/**
 * Idempotency-Key for submissions (as Stripe's API does it): the first request with a key
 * runs and its answer is stored; a retry with the same key and body gets the same answer
 * (same task ids, nothing enqueued twice); the same key with another body is a 422; a
 * retry while the first is still running is a 409. Keys live IDEMPOTENCY_TTL_S in Redis.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Clients } from '../core/clients';
import { dependency } from '../core/dependencies';
import { ConflictError, UnprocessableError } from '../core/errors';
import { explain, parseWith } from '../core/validate';

const KEY = /^[\x21-\x7e]{1,255}$/;

/** The Idempotency-Key request header (lower case, as lib/core/http.ts keeps headers). */
export const IdempotencyHeaders = z.object({
  'idempotency-key': explain(
    z.string().regex(KEY).meta({ description: 'a retry with the same key and body gets the first answer, and nothing is enqueued twice; the same key with another body is a 422' }),
    () => ({ message: 'Idempotency-Key must be 1-255 printable ASCII characters without spaces', field: 'Idempotency-Key' }),
  ).optional(),
});
const IN_PROGRESS_TTL_S = 60;

interface Stored {
  state: 'in_progress' | 'done';
  body_hash: string;
  status?: number;
  response?: unknown;
}

/** JSON with object keys sorted, so {"a":1,"b":2} and {"b":2,"a":1} are the same body. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export async function withIdempotency<T>(
  deps: Clients,
  rawKey: string | undefined,
  body: unknown,
  run: () => Promise<{ status: number; response: T }>,
): Promise<{ status: number; response: T; replayed: boolean }> {
  if (rawKey === undefined) return { ...(await run()), replayed: false };
  parseWith(IdempotencyHeaders, { 'idempotency-key': rawKey });
  const key = deps.key('idem', createHash('sha256').update(rawKey).digest('hex'));
  const bodyHash = createHash('sha256').update(canonicalJson(body)).digest('hex');
  const claimed = await dependency('redis', () => deps.redis.set(key, JSON.stringify({ state: 'in_progress', body_hash: bodyHash } satisfies Stored), 'EX', IN_PROGRESS_TTL_S, 'NX'));
  if (claimed !== 'OK') {
    const raw = await dependency('redis', () => deps.redis.get(key));
    const stored = raw ? (JSON.parse(raw) as Stored) : undefined;
    if (!stored) throw new ConflictError('a request with this Idempotency-Key just finished or expired; retry', { field: 'Idempotency-Key' });
    if (stored.body_hash !== bodyHash) {
      throw new UnprocessableError('this Idempotency-Key was already used with a different request body; use a new key', { field: 'Idempotency-Key' });
    }
    if (stored.state === 'in_progress') throw new ConflictError('a request with this Idempotency-Key is still being processed; retry shortly', { field: 'Idempotency-Key' });
    return { status: stored.status!, response: stored.response as T, replayed: true };
  }
  try {
    const result = await run();
    const done: Stored = { state: 'done', body_hash: bodyHash, status: result.status, response: result.response };
    await dependency('redis', () => deps.redis.set(key, JSON.stringify(done), 'EX', deps.config.idempotencyTtlS));
    return { ...result, replayed: false };
  } catch (e) {
    // A refused or failed request did nothing: the key is free for a corrected retry.
    await deps.redis.del(key).catch(() => undefined);
    throw e;
  }
}
