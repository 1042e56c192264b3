/**
 * Calls to Redis, SQS and S3 (and the Lambda API) go through `dependency()`: failures that mean "the service is
 * not there or broken" (connection refused, timeouts, 5xx, throttling) become a
 * DependencyUnavailableError naming it (HTTP 503); client errors (4xx such as NoSuchKey)
 * pass through for the caller to interpret.
 */
import { AppError, DependencyUnavailableError } from './errors';

export type DependencyName = 'redis' | 'sqs' | 's3' | 'lambda' | 'secrets';

/** The HTTP status an AWS SDK error carries, if any. */
export function httpStatus(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

const THROTTLING = /Throttl|SlowDown|RequestLimitExceeded|TooManyRequests/;

export function isClientError(e: unknown): boolean {
  const status = httpStatus(e);
  const name = (e as Error)?.name ?? '';
  return status !== undefined && status >= 400 && status < 500 && status !== 429 && !THROTTLING.test(name);
}

/**
 * A call that ran out of time (ioredis's commandTimeout, the SDK's request timeout, withTimeout)
 * rather than being refused: under a burst the caller's own event loop can be what was late,
 * so the answer should not claim the service is down.
 */
function isTimeout(e: unknown): boolean {
  const err = e as { name?: string; code?: string; message?: string } | undefined;
  return e instanceof TimeoutError || err?.name === 'TimeoutError' || err?.code === 'ETIMEDOUT' || err?.message === 'Command timed out';
}

/**
 * The answer names the dependency only: the raw error (hosts, ports, SDK internals) is the
 * `cause`, which the request log line carries (lib/core/log.ts errorFields).
 */
export function toDependencyError(dep: DependencyName, e: unknown): DependencyUnavailableError {
  // The local emulator's answer when its disk is full (scripts/local/disk-s3-store.mjs).
  const what = isTimeout(e) ? 'did not answer in time' : (e as Error)?.name === 'InsufficientStorage' ? 'is out of storage space' : 'is unavailable';
  return new DependencyUnavailableError(dep, `${dep} ${what}; retry shortly (details are in the server log)`, e);
}

export async function dependency<T>(dep: DependencyName, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    if (e instanceof AppError || isClientError(e)) throw e;
    throw toDependencyError(dep, e);
  }
}

export class TimeoutError extends Error {}

/** Rejects after `ms` so a dependency that hangs cannot hang a request. */
export function withTimeout<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
