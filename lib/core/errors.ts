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

/** The base of an error class with a fixed HTTP status and code (one line per class below). */
function statusError(status: number, code: string, opts: { retryable?: boolean } = {}) {
  return class extends AppError {
    readonly status = status;
    readonly code = code;
    override readonly retryable = opts.retryable ?? false;
  };
}

export class ValidationError extends statusError(400, 'validation_error') {}

export class NotFoundError extends statusError(404, 'not_found') {}

export class PayloadTooLargeError extends statusError(413, 'payload_too_large') {}

export class UnsupportedMediaTypeError extends statusError(415, 'unsupported_media_type') {}

/** How long a client is told to wait after meeting an unavailable dependency: outages here are short (restarts, bursts). */
export const DEPENDENCY_RETRY_AFTER_S = 2;

/** A dependency (Redis, SQS, S3) did not answer or answered with a server-side error. */
export class DependencyUnavailableError extends statusError(503, 'dependency_unavailable', { retryable: true }) {
  override readonly headers = { 'retry-after': String(DEPENDENCY_RETRY_AFTER_S) };
  constructor(readonly dependency: string, message: string, cause?: unknown) {
    super(message, { cause, details: { dependency, retry_after_s: DEPENDENCY_RETRY_AFTER_S } });
  }
}

/**
 * A filter failed for a reason outside the pixels and parameters (the WASM heap could not
 * grow, a bug): another attempt, in a fresh process or with more memory, may succeed.
 */
export class FilterCrashedError extends statusError(500, 'filter_crashed', { retryable: true }) {}

/** The same request can succeed later: the response says when (Retry-After, retry_after_s). */
function retryLaterError(status: number, code: string) {
  return class extends statusError(status, code, { retryable: true }) {
    override readonly headers: Record<string, string>;
    constructor(message: string, readonly retryAfterS: number, details: Record<string, unknown> = {}) {
      super(message, { details: { ...details, retry_after_s: retryAfterS } });
      this.headers = { 'retry-after': String(retryAfterS) };
    }
  };
}

/** This process is at a capacity limit right now (the batch pixel budget). */
export class OverloadedError extends retryLaterError(503, 'overloaded') {}

export class InternalError extends statusError(500, 'internal_error') {}

/** The bytes are not an image we accept (undecodable, too many pixels, too large). */
export class ImageRejectedError extends statusError(422, 'image_rejected') {}

/**
 * A filter failed on these pixels and parameters (an OpenCV exception). The same input
 * fails the same way every time, so a queue consumer must not retry it.
 */
export class FilterFailedError extends statusError(422, 'filter_failed') {}

/** The request conflicts with one in progress (e.g. the same Idempotency-Key, still running). */
export class ConflictError extends statusError(409, 'conflict') {}

/** Well-formed but refused as a whole (e.g. an Idempotency-Key reused with another body). */
export class UnprocessableError extends statusError(422, 'unprocessable') {}

/** No credentials, or credentials that are not valid: 401 with the scheme the client should use. */
export class UnauthorizedError extends statusError(401, 'unauthorized') {
  override readonly headers = { 'www-authenticate': 'Bearer realm="image-pipeline"' };
}

/** Over the per-key (or per-client) request budget; Retry-After says when the window resets. */
export class TooManyRequestsError extends retryLaterError(429, 'rate_limited') {}

/** An AppError as it crosses a thread boundary, where structured cloning would keep only its message. */
export interface SerializedAppError {
  name: string;
  message: string;
  retryable: boolean;
  field?: string;
  details?: Record<string, unknown>;
}

/** The classes an image worker thread can throw, rebuilt by name on the other side. */
const THREAD_ERRORS: Record<string, new (message: string, opts?: { field?: string; details?: Record<string, unknown> }) => AppError> = {
  ValidationError,
  ImageRejectedError,
  FilterFailedError,
  FilterCrashedError,
  PayloadTooLargeError,
  UnsupportedMediaTypeError,
  NotFoundError,
  InternalError,
};

export function serializeAppError(e: AppError): SerializedAppError {
  return { name: e.name, message: e.message, retryable: e.retryable, field: e.field, details: e.details };
}

/** The same class again; any other keeps whether it may be retried. */
export function rebuildAppError(s: SerializedAppError): AppError {
  const Class = THREAD_ERRORS[s.name] ?? (s.retryable ? FilterCrashedError : InternalError);
  return new Class(s.message, { field: s.field, details: s.details });
}
