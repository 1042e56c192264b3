/**
 * The OpenAPI 3.1 document of the HTTP API (GET /api/openapi.json), generated from the route
 * table (./routes.ts): request schemas are the zod schemas the handlers parse with, at this
 * deployment's limits (MAX_BATCH_IMAGES, MAX_SLOW_DELAY_S, MAX_INPUT_BYTES…); response
 * schemas are ./responses.ts. JSON Schema comes from zod 4's z.toJSONSchema (draft 2020-12,
 * which OpenAPI 3.1 uses as is).
 */
import { z } from 'zod';
import type { Config } from '../core/config';
import { ErrorBody } from './responses';
import { ROUTE_DOCS, type HeaderDoc, type ResponseDoc, type RouteDoc } from './routes';

type Json = Record<string, unknown>;

/** Request schemas are read as the client writes them (defaults optional), responses as the server writes them (closed objects). */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const out = z.toJSONSchema(schema, {
    io,
    target: 'draft-2020-12',
    unrepresentable: 'any',
    override: (ctx) => {
      // A default over a preprocessed value (decimal strings accepted) is left out by zod; the client still needs it.
      const def = (ctx.zodSchema as unknown as { _zod: { def: { type: string; defaultValue?: unknown } } })._zod.def;
      if (def.type === 'default' && ctx.jsonSchema.default === undefined) ctx.jsonSchema.default = JSON.parse(JSON.stringify(def.defaultValue));
    },
  }) as Json;
  delete out.$schema;
  return out;
}

const ERROR_REF = { $ref: '#/components/schemas/Error' };

/** What any route can answer, besides its own errors. */
function commonErrors(route: RouteDoc): Record<number, string> {
  const keyed: Record<number, string> = route.public ? {} : { 401: 'no API key, or not a valid one (when API_KEYS or API_KEYS_SECRET is set)', 429: 'over RATE_LIMIT_PER_MINUTE for this key (or address); Retry-After says when to retry' };
  return {
    ...keyed,
    500: 'an unexpected failure; the server log has the request id',
    503: 'a dependency (Redis, SQS, S3) did not answer, or this process is at its batch pixel budget; Retry-After says when to retry',
  };
}

function headersDoc(headers: Record<string, HeaderDoc> | undefined) {
  if (!headers) return undefined;
  return Object.fromEntries(Object.entries(headers).map(([name, h]) => [name, { description: h.description, schema: h.schema }]));
}

function responseDoc(r: ResponseDoc): Json {
  const content: Json = {};
  if (r.json) content['application/json'] = { schema: jsonSchema(r.json, 'output') };
  for (const [type, schema] of Object.entries(r.content ?? {})) content[type] = Object.keys(schema).length ? { schema } : {};
  return { description: r.description, ...(r.headers ? { headers: headersDoc(r.headers) } : {}), content };
}

function errorDoc(status: number, description: string, own?: ResponseDoc): Json {
  const headers: Json = {};
  if (status === 401) headers['WWW-Authenticate'] = { description: 'Bearer realm="image-pipeline"', schema: { type: 'string' } };
  if (status === 429 || status === 503) headers['Retry-After'] = { description: 'seconds', schema: { type: 'integer' } };
  // The health check's 503 is its own body; one from before the checks ran is the error body.
  const schema = own?.json ? { anyOf: [jsonSchema(own.json, 'output'), ERROR_REF] } : ERROR_REF;
  return { description: own ? `${own.description}; or ${description}` : description, ...(Object.keys(headers).length ? { headers } : {}), content: { 'application/json': { schema } } };
}

/** Header names as HTTP writes them (Idempotency-Key); the schemas use lib/core/http.ts's lower case. */
const headerName = (key: string) => key.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());

function parameters(route: RouteDoc, cfg: Config): Json[] {
  const out: Json[] = [];
  const add = (where: 'query' | 'path' | 'header', object: z.ZodObject | undefined) => {
    if (!object) return;
    const schema = jsonSchema(object, 'input');
    const props = (schema.properties ?? {}) as Record<string, Json>;
    const required = new Set((schema.required ?? []) as string[]);
    for (const [name, prop] of Object.entries(props)) {
      const { description, ...rest } = prop;
      out.push({
        name: where === 'header' ? headerName(name) : name,
        in: where,
        required: where === 'path' || required.has(name),
        ...(description ? { description } : {}),
        schema: rest,
      });
    }
  };
  add('path', route.pathParams);
  add('query', route.query?.(cfg));
  add('header', route.headers);
  return out;
}

function operation(route: RouteDoc, cfg: Config): Json {
  const responses: Json = {};
  for (const [status, r] of Object.entries(route.responses)) responses[status] = responseDoc(r);
  const errors = { ...route.errors, ...commonErrors(route) };
  for (const [status, description] of Object.entries(errors)) {
    responses[status] = errorDoc(Number(status), description, route.responses[Number(status)]);
  }
  const params = parameters(route, cfg);
  let requestBody: Json | undefined;
  if (route.body) {
    const content = 'json' in route.body ? { 'application/json': { schema: jsonSchema(route.body.json(cfg), 'input') } } : route.body.content;
    requestBody = { description: route.body.description, required: route.body.required, content };
  }
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    ...(route.public ? { security: [] } : {}),
    ...(params.length ? { parameters: params } : {}),
    ...(requestBody ? { requestBody } : {}),
    responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => Number(a) - Number(b))),
  };
}

const TAGS = [
  { name: 'health', description: 'Whether the API can reach its dependencies' },
  { name: 'images', description: "The bucket's source images: read, list, upload" },
  { name: 'batch', description: 'Process a batch inside the API, with one of three concurrency strategies, and compare them' },
  { name: 'distributed', description: 'Tasks through the SQS FIFO queue to the capability workers; status, workers, dead letters' },
  { name: 'observability', description: 'Request statistics and Prometheus metrics' },
  { name: 'dashboard', description: 'The live dashboard and its data' },
  { name: 'reference', description: 'This document and its rendered page' },
];

const DESCRIPTION = `A serverless-style image-processing pipeline: batch endpoints that process images inside the API with three concurrency strategies, and a distributed path through an SQS FIFO queue to capability-configured workers, with results in S3 and state in Redis.

Every error is JSON, \`{"error": {"code", "message", "field", ...}}\`, the message naming the field and the allowed range or values. Any path or method not listed here answers 404 in that shape. Paths are written with their trailing slash, as the routes are declared (the local server also answers them without it).

When API keys are configured (API_KEYS, or API_KEYS_SECRET on AWS), every route but the health check, the dashboard's files and this reference needs \`Authorization: Bearer <key>\`, and each key has RATE_LIMIT_PER_MINUTE requests a minute.`;

const cache = new WeakMap<Config, Json>();

export function openApiDocument(cfg: Config): Json {
  const cached = cache.get(cfg);
  if (cached) return cached;
  const paths: Record<string, Json> = {};
  for (const route of ROUTE_DOCS) (paths[route.path] ??= {})[route.method.toLowerCase()] = operation(route, cfg);
  const doc: Json = {
    openapi: '3.1.1',
    info: { title: 'image-pipeline', version: cfg.version, description: DESCRIPTION, license: { name: 'MIT', identifier: 'MIT' } },
    servers: [{ url: '/', description: 'the origin this document is served from' }],
    tags: TAGS,
    security: [{ apiKey: [] }],
    paths,
    components: {
      schemas: { Error: jsonSchema(ErrorBody, 'output') },
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'an API key from API_KEYS (or the API_KEYS_SECRET parameter on AWS)' } },
    },
  };
  cache.set(cfg, doc);
  return doc;
}
