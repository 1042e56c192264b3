/**
 * Typed errors. Domain code throws these; lib/core/http.ts maps them to statuses in one place.
 * `retryable` tells queue consumers whether another delivery could succeed.
 */
export abstract class AppError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  readonly retryable: boolean = false;
  readonly field?: string;
  readonly details?: Record<string, unknown>;
  /** Response headers the status needs (WWW-Authenticate, Retry-After). */
  readonly headers?: Record<string, string>;

  constructor(message: string, opts: { field?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.field = opts.field;
    this.details = opts.details;
  }
}

export class ValidationError extends AppError {
  readonly status = 400;
  readonly code = 'validation_error';
}

export class NotFoundError extends AppError {
  readonly status = 404;
  readonly code = 'not_found';
}

export class PayloadTooLargeError extends AppError {
  readonly status = 413;
  readonly code = 'payload_too_large';
}

export class UnsupportedMediaTypeError extends AppError {
  readonly status = 415;
  readonly code = 'unsupported_media_type';
}

/** A dependency (Redis, SQS, S3) did not answer or answered with a server-side error. */
export class DependencyUnavailableError extends AppError {
  readonly status = 503;
  readonly code = 'dependency_unavailable';
  override readonly retryable = true;
  constructor(readonly dependency: string, message: string, cause?: unknown) {
    super(message, { cause, details: { dependency } });
  }
}

/**
 * A filter failed for a reason outside the pixels and parameters (the WASM heap could not
 * grow, a bug): another attempt, in a fresh process or with more memory, may succeed.
 */
export class FilterCrashedError extends AppError {
  readonly status = 500;
  readonly code = 'filter_crashed';
  override readonly retryable = true;
}

/** This process is at a capacity limit right now; the same request later can succeed (sent with Retry-After). */
export class OverloadedError extends AppError {
  readonly status = 503;
  readonly code = 'overloaded';
  override readonly retryable = true;
  override readonly headers: Record<string, string>;
  constructor(message: string, readonly retryAfterS: number, details: Record<string, unknown> = {}) {
    super(message, { details: { ...details, retry_after_s: retryAfterS } });
    this.headers = { 'retry-after': String(retryAfterS) };
  }
}

export class InternalError extends AppError {
  readonly status = 500;
  readonly code = 'internal_error';
}

/** The bytes are not an image we accept (undecodable, too many pixels, too large). */
export class ImageRejectedError extends AppError {
  readonly status = 422;
  readonly code = 'image_rejected';
}

/**
 * A filter failed on these pixels and parameters (an OpenCV exception). The same input
 * fails the same way every time, so a queue consumer must not retry it.
 */
export class FilterFailedError extends AppError {
  readonly status = 422;
  readonly code = 'filter_failed';
}

/** The request conflicts with one in progress (e.g. the same Idempotency-Key, still running). */
export class ConflictError extends AppError {
  readonly status = 409;
  readonly code = 'conflict';
}

/** Well-formed but refused as a whole (e.g. an Idempotency-Key reused with another body). */
export class UnprocessableError extends AppError {
  readonly status = 422;
  readonly code = 'unprocessable';
}

/** No credentials, or credentials that are not valid: 401 with the scheme the client should use. */
export class UnauthorizedError extends AppError {
  readonly status = 401;
  readonly code = 'unauthorized';
  override readonly headers = { 'www-authenticate': 'Bearer realm="image-pipeline"' };
}

/** Over the per-key (or per-client) request budget; Retry-After says when the window resets. */
export class TooManyRequestsError extends AppError {
  readonly status = 429;
  readonly code = 'rate_limited';
  override readonly headers: Record<string, string>;
  constructor(message: string, readonly retryAfterS: number) {
    super(message, { details: { retry_after_s: retryAfterS } });
    this.headers = { 'retry-after': String(retryAfterS) };
  }
}
