/**
 * Responses against the OpenAPI document (lib/api/openapi.ts): the status must be documented
 * for the route, the Content-Type one of the documented media types, and a JSON body must
 * validate (ajv, JSON Schema 2020-12, formats checked) against the documented schema.
 * tests/helpers/api-contract-setup.ts applies it to every response an integration test
 * receives from the API.
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { openApiDocument } from '../../lib/api/openapi';
import { loadConfig } from '../../lib/core/config';

type Json = Record<string, any>;

const DOC_ID = 'https://image-pipeline.invalid/openapi.json';
/** What the catch-all route answers for a path or method not in the document. */
const UNMATCHED_STATUSES = [401, 404, 429, 500, 503];

const pointer = (...parts: string[]) => parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

export interface Contract {
  /** A description of what is wrong with this response, or undefined when it is as documented. */
  check(method: string, path: string, status: number, contentType: string, body: string | undefined): string | undefined;
  /** The document's operation for a request, if it has one. */
  operationFor(method: string, path: string): { path: string; method: string; operation: Json } | undefined;
}

export function contractFor(doc: Json): Contract {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ ...doc, $id: DOC_ID });
  const validators = new Map<string, ValidateFunction>();
  const validator = (ref: string) => {
    let v = validators.get(ref);
    if (!v) validators.set(ref, (v = ajv.compile({ $ref: `${DOC_ID}#/${ref}` })));
    return v;
  };
  // Paths as documented, with their trailing slash optional (the API answers both).
  const routes = Object.entries(doc.paths as Json).map(([path, item]) => ({
    path,
    item: item as Json,
    re: new RegExp(`^${path.replace(/\/$/, '').replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}/?$`),
  }));

  const operationFor = (method: string, path: string) => {
    for (const r of routes) {
      const operation = r.item[method.toLowerCase()];
      if (operation && r.re.test(path)) return { path: r.path, method: method.toLowerCase(), operation: operation as Json };
    }
    return undefined;
  };

  const validateJson = (ref: string, what: string, body: string | undefined): string | undefined => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body ?? '');
    } catch {
      return `${what}: the body is not JSON: ${String(body).slice(0, 200)}`;
    }
    const v = validator(ref);
    if (v(parsed)) return undefined;
    const errors = (v.errors ?? []).slice(0, 8).map((e) => `${e.instancePath || '/'} ${e.message}${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ''}`);
    return `${what}: the body does not match the documented schema:\n  ${errors.join('\n  ')}\nbody: ${String(body).slice(0, 600)}`;
  };

  return {
    operationFor,
    check(method, path, status, contentType, body) {
      const type = contentType.split(';')[0].trim().toLowerCase();
      const found = operationFor(method, path);
      if (!found) {
        const what = `${method} ${path} (not in the document: the catch-all) answered ${status}`;
        if (!UNMATCHED_STATUSES.includes(status)) return `${what}, which the catch-all never answers`;
        if (type !== 'application/json') return `${what} with ${contentType || 'no Content-Type'}`;
        return validateJson(pointer('components', 'schemas', 'Error'), what, body);
      }
      const what = `${method} ${path} (${found.method.toUpperCase()} ${found.path}) answered ${status}`;
      const response = found.operation.responses?.[String(status)];
      if (!response) return `${what}, a status the document does not list for it (it lists ${Object.keys(found.operation.responses ?? {}).join(', ')})`;
      const content = (response.content ?? {}) as Json;
      const mediaType = Object.keys(content).find((m) => m === type || (m.endsWith('/*') && type.startsWith(m.slice(0, -1))));
      if (!mediaType) return `${what} with Content-Type ${contentType || 'none'}; documented: ${Object.keys(content).join(', ') || 'no body'}`;
      if (mediaType !== 'application/json' || !content[mediaType].schema) return undefined;
      return validateJson(pointer('paths', found.path, found.method, 'responses', String(status), 'content', mediaType, 'schema'), what, body);
    },
  };
}

let shared: Contract | undefined;

/** The contract of the document the code generates (response schemas do not depend on the limits in the configuration). */
export function apiContract(): Contract {
  return (shared ??= contractFor(openApiDocument(loadConfig({}))));
}
