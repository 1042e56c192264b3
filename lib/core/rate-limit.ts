/**
 * Per-key request budget: a fixed one-minute window per client in Redis (INCR + EXPIRE), shared
 * by every API process or Lambda instance of the deployment. Fixed windows let a client send up
 * to twice the limit across a window edge; that is acceptable for a cost bound and costs one
 * round trip per request.
 */
import type { Clients } from './clients';
import { dependency } from './dependencies';
import { TooManyRequestsError } from './errors';

const WINDOW_S = 60;

export async function enforceRateLimit(deps: Clients, client: string, nowMs: number = Date.now()): Promise<void> {
  const limit = deps.config.auth.rateLimitPerMinute;
  if (limit === 0) return;
  const window = Math.floor(nowMs / 1000 / WINDOW_S);
  const key = deps.key('ratelimit', client, String(window));
  const res = await dependency('redis', () => deps.redis.multi().incr(key).expire(key, WINDOW_S * 2).exec());
  const count = Number(res?.[0]?.[1]);
  if (count > limit) {
    const retryAfterS = Math.max(1, Math.ceil((window + 1) * WINDOW_S - nowMs / 1000));
    throw new TooManyRequestsError(`rate limit of ${limit} requests per minute exceeded; retry after ${retryAfterS} s`, retryAfterS);
  }
}
