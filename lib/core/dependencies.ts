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
 * The answer names the dependency only: the raw error (hosts, ports, SDK internals) is the
 * `cause`, which the request log line carries (lib/core/log.ts errorFields).
 */
export function toDependencyError(dep: DependencyName, e: unknown): DependencyUnavailableError {
  return new DependencyUnavailableError(dep, `${dep} is unavailable; retry shortly (details are in the server log)`, e);
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
