/**
 * The seam between API Gateway (HTTP API, payload v2) events and domain code.
 * `httpHandler` parses the event, runs the endpoint, maps typed errors to statuses in one
 * place, records request stats, and logs one line per request. An uncaught exception
 * would otherwise reach serverless-offline, which answers it as HTTP 200.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { readyClients, type Clients } from './clients';
import { AppError, InternalError, PayloadTooLargeError, ValidationError } from './errors';
import { errorFields, log } from './log';
import { apiKeys, authenticate, type Principal } from './auth';
import { enforceRateLimit } from './rate-limit';
import { round } from './numbers';
import { recordRequestEnd, recordRequestStart } from '../observability/stats';

export interface Request {
  method: string;
  path: string;
  /**
   * "GET /api/health/": the route as declared, used to group stats; UNMATCHED_ROUTE for the
   * catch-all, so junk paths cannot mint a stats key or a Prometheus series each.
   */
  route: string;
  query: Record<string, string>;
  pathParams: Record<string, string>;
  headers: Record<string, string>;
  body: Buffer;
  requestId: string;
  /** The client's address as the gateway saw it (rate-limit identity when the API is open). */
  sourceIp: string;
  /** Set by the AWS authorizer (requestContext.authorizer.lambda.principal). */
  authorizerPrincipal?: string;
}

export type Response = APIGatewayProxyStructuredResultV2 & { statusCode: number };

export type Endpoint = (req: Request, deps: Clients) => Promise<Response>;

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): Response {
  return { statusCode, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

export function binary(data: Buffer, contentType: string, filename: string): Response {
  return {
    statusCode: 200,
    isBase64Encoded: true,
    headers: {
      'content-type': contentType,
      'content-length': String(data.length),
      'content-disposition': `inline; filename="${filename}"`,
      'cache-control': 'no-store',
    },
    body: data.toString('base64'),
  };
}

export function errorBody(e: AppError) {
  return {
    error: {
      code: e.code,
      message: e.message,
      ...(e.field ? { field: e.field } : {}),
      ...(e.details ?? {}),
    },
  };
}

export function errorResponse(e: unknown, requestId: string): Response {
  const appError = e instanceof AppError ? e : new InternalError('internal error; see the server log for request ' + requestId);
  return json(appError.status, errorBody(appError), { ...appError.headers, 'x-request-id': requestId });
}

/** The one route every request outside the route table is counted under. */
export const UNMATCHED_ROUTE = 'unmatched';

export function parseEvent(event: APIGatewayProxyEventV2, requestId: string = randomUUID()): Request {
  const method = event.requestContext?.http?.method ?? 'GET';
  const routeKey = event.routeKey && event.routeKey !== '$default' ? event.routeKey : UNMATCHED_ROUTE;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) if (v !== undefined) headers[k.toLowerCase()] = v;
  const query: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.queryStringParameters ?? {})) if (v !== undefined) query[k] = v;
  const pathParams: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.pathParameters ?? {})) if (v !== undefined) pathParams[k] = v;
  const raw = event.body ?? '';
  return {
    method,
    path: event.rawPath ?? '/',
    route: routeKey,
    query,
    pathParams,
    headers,
    body: event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8'),
    requestId,
    sourceIp: event.requestContext?.http?.sourceIp ?? 'unknown',
    authorizerPrincipal: (event.requestContext as { authorizer?: { lambda?: { principal?: unknown } } } | undefined)?.authorizer?.lambda
      ?.principal as string | undefined,
  };
}

/** The request's media type without parameters, lower case; '' when it sent none. */
export function mediaType(req: Request): string {
  return (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
}

/** Every JSON body the API takes is a small control document (the largest: an upload's part list). */
export const MAX_JSON_BODY_BYTES = 1024 * 1024;
/** Real bodies nest 4 levels; recursive code downstream (hashing, validation) must never meet 100 000. */
export const MAX_JSON_DEPTH = 32;

/** The deepest [ / { nesting in JSON text, counted without parsing (strings skipped). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) max = Math.max(max, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** Parses a JSON request body into an object, or explains what is wrong with it. */
export function jsonBody(req: Request): Record<string, unknown> {
  if (req.body.length === 0) return {};
  const type = mediaType(req) || 'application/json';
  if (type !== 'application/json') {
    throw new ValidationError(`body must be JSON sent with Content-Type: application/json (got ${type})`, { field: 'body' });
  }
  if (req.body.length > MAX_JSON_BODY_BYTES) {
    throw new PayloadTooLargeError(`body is ${req.body.length} bytes; a JSON body may be at most ${MAX_JSON_BODY_BYTES}`, { field: 'body', details: { max_bytes: MAX_JSON_BODY_BYTES } });
  }
  const text = req.body.toString('utf8');
  if (jsonDepth(text) > MAX_JSON_DEPTH) {
    throw new ValidationError(`body nests arrays/objects deeper than ${MAX_JSON_DEPTH} levels`, { field: 'body', details: { max_depth: MAX_JSON_DEPTH } });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ValidationError(`body is not valid JSON: ${(e as Error).message}`, { field: 'body' });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ValidationError('body must be a JSON object', { field: 'body' });
  }
  return parsed as Record<string, unknown>;
}

/**
 * Who is calling, and within budget? On AWS the HTTP API authorizer already checked the key
 * (and passed its principal on); other stages run the same check here (see lib/core/auth.ts).
 */
async function admit(req: Request, deps: Clients): Promise<void> {
  let principal: Principal;
  if (deps.config.stage === 'aws') {
    principal = req.authorizerPrincipal && req.authorizerPrincipal !== 'anonymous' ? { kind: 'key', id: req.authorizerPrincipal } : { kind: 'anonymous' };
  } else {
    principal = authenticate(await apiKeys(deps.config), req.headers.authorization);
  }
  await enforceRateLimit(deps, principal.kind === 'key' ? `key:${principal.id}` : `ip:${req.sourceIp}`);
}

export interface HandlerOptions {
  /** Health and the dashboard's static files: no key, no rate limit. */
  public?: boolean;
  getDeps?: () => Clients | Promise<Clients>;
}

export function httpHandler(endpoint: Endpoint, opts: HandlerOptions = {}) {
  const getDeps = opts.getDeps ?? readyClients;
  return async (event: APIGatewayProxyEventV2, context?: Context): Promise<Response> => {
    const started = performance.now();
    // serverless-offline gives every event the same requestContext.requestId; the invocation id is unique.
    const req = parseEvent(event, context?.awsRequestId ?? randomUUID());
    let deps: Clients;
    try {
      deps = await getDeps();
    } catch (e) {
      // No clients (REDIS_URL_SECRET unreadable): answer, but nothing can be recorded.
      log.error('request failed before its clients existed', { route: req.route, request_id: req.requestId, ...errorFields(e) });
      return errorResponse(e, req.requestId);
    }
    recordRequestStart(deps);
    let res: Response;
    try {
      if (!opts.public) await admit(req, deps);
      res = await endpoint(req, deps);
    } catch (e) {
      res = errorResponse(e, req.requestId);
      if (res.statusCode >= 500) log.error('request failed', { route: req.route, request_id: req.requestId, ...errorFields(e) });
    }
    const ms = performance.now() - started;
    res.headers = { ...res.headers, 'x-request-id': req.requestId, 'x-response-time-ms': ms.toFixed(1) };
    await recordRequestEnd(deps, req.route, res.statusCode, ms);
    log.info('request', { method: req.method, path: req.path, route: req.route, status: res.statusCode, ms: round(ms), request_id: req.requestId });
    return res;
  };
}
