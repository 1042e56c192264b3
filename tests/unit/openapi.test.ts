// The OpenAPI document (GET /api/openapi.json): lints clean with Redocly's recommended rules
// (redocly.yaml), lists exactly the routes of serverless.yml, and its schemas compile.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import yaml from 'js-yaml';
import { openApiDocument } from '../../lib/api/openapi';
import { loadConfig } from '../../lib/core/config';
import { apiContract } from '../helpers/api-contract';

const ROOT = path.resolve(__dirname, '..', '..');
const doc = openApiDocument(loadConfig({})) as any;

/** Every httpApi event of serverless.yml: "METHOD path", and whether it has the authorizer. */
function declaredRoutes(): { route: string; keyed: boolean }[] {
  const sls = yaml.load(readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8')) as { functions: (Record<string, { events?: { httpApi?: { method: string; path: string; authorizer?: unknown } }[] }> | string)[] };
  const out: { route: string; keyed: boolean }[] = [];
  for (const group of sls.functions) {
    if (typeof group === 'string') continue; // the generated worker functions: SQS consumers
    for (const fn of Object.values(group)) for (const e of fn.events ?? []) if (e.httpApi) out.push({ route: `${e.httpApi.method} ${e.httpApi.path}`, keyed: e.httpApi.authorizer !== undefined });
  }
  return out;
}

function documentedRoutes(): { route: string; keyed: boolean }[] {
  return Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([p, item]) =>
    Object.entries(item).map(([method, op]) => ({ route: `${method.toUpperCase()} ${p}`, keyed: op.security === undefined })),
  );
}

test('every route of serverless.yml is in the document, and nothing else; the catch-all is the only one left out', () => {
  const declared = declaredRoutes();
  expect(declared.length).toBeGreaterThan(25);
  const catchAll = declared.filter((d) => d.route === '* *');
  expect(catchAll).toHaveLength(1);
  const sorted = (xs: { route: string; keyed: boolean }[]) => [...xs].sort((a, b) => a.route.localeCompare(b.route));
  expect(sorted(documentedRoutes())).toEqual(sorted(declared.filter((d) => d.route !== '* *')));
});

test('the document lints clean with @redocly/cli (recommended rules, redocly.yaml)', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'openapi-lint-'));
  try {
    const file = path.join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(doc, null, 2));
    const run = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', '@redocly', 'cli', 'bin', 'cli.js'), 'lint', '--config', path.join(ROOT, 'redocly.yaml'), '--format', 'json', file], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      timeout: 120_000,
    });
    const report = JSON.parse(run.stdout.slice(run.stdout.indexOf('{')));
    expect(report.problems.map((p: { ruleId: string; message: string; location: { pointer: string }[] }) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`)).toEqual([]);
    expect(run.status).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

test('an OpenAPI 3.1 document of this deployment, every operation with an id, a summary and its errors', () => {
  expect(doc.openapi).toMatch(/^3\.1\./);
  expect(doc.info.version).toBe(loadConfig({}).version);
  for (const [p, item] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(item)) {
      expect({ route: `${method} ${p}`, id: typeof op.operationId, summary: typeof op.summary }).toEqual({ route: `${method} ${p}`, id: 'string', summary: 'string' });
      expect(op.responses['500'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
    }
  }
});

test('the limits are this deployment\'s: MAX_BATCH_IMAGES and MAX_SLOW_DELAY_S reach the schemas', () => {
  const custom = openApiDocument(loadConfig({ MAX_BATCH_IMAGES: '7', MAX_SLOW_DELAY_S: '9' })) as any;
  const images = custom.paths['/api/process-batch/sequential/'].post.requestBody.content['application/json'].schema.properties.images;
  expect(images.maxItems).toBe(7);
  const delay = custom.paths['/api/image/slow/'].get.parameters.find((p: { name: string }) => p.name === 'delay');
  expect(delay).toMatchObject({ in: 'query', required: false, schema: { type: 'number', minimum: 0, maximum: 9, default: 2 } });
  const taskId = doc.paths['/api/task/{task_id}/status/'].get.parameters[0];
  expect(taskId).toMatchObject({ name: 'task_id', in: 'path', required: true, schema: { type: 'string', pattern: expect.any(String) } });
  expect(doc.paths['/api/process-batch/distributed/'].post.parameters).toEqual([expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: false })]);
});

test('every schema in it compiles as JSON Schema 2020-12, strictly', () => {
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: 'components', $defs: doc.components.schemas });
  const schemas: unknown[] = [];
  const walk = (v: unknown, key?: string) => {
    if (!v || typeof v !== 'object') return;
    if (key === 'schema') return void schemas.push(v);
    for (const [k, c] of Object.entries(v)) walk(c, k);
  };
  walk(doc.paths);
  expect(schemas.length).toBeGreaterThan(80);
  const refFree = (s: unknown) => JSON.parse(JSON.stringify(s).replace(/"#\/components\/schemas\/Error"/g, '"components#/$defs/Error"'));
  for (const s of schemas) expect(() => ajv.compile(refFree(s))).not.toThrow();
});

test('the contract check refuses what the document does not say', () => {
  const c = apiContract();
  expect(c.check('GET', '/api/health/', 200, 'application/json; charset=utf-8', JSON.stringify({ status: 'ok' }))).toMatch(/does not match/);
  expect(c.check('GET', '/api/health', 418, 'application/json', '{}')).toMatch(/does not list/);
  expect(c.check('GET', '/api/image/4k/', 200, 'text/html', undefined)).toMatch(/Content-Type text\/html/);
  expect(c.check('GET', '/api/image/4k/', 200, 'image/jpeg', undefined)).toBeUndefined();
  expect(c.check('GET', '/api/nope/', 404, 'application/json', JSON.stringify({ error: { code: 'not_found', message: 'no endpoint' } }))).toBeUndefined();
  expect(c.check('GET', '/api/nope/', 404, 'application/json', JSON.stringify({ error: { code: 'not_found', message: 'x', extra: 1 } }))).toMatch(/additional/);
  expect(c.check('DELETE', '/api/health/', 200, 'application/json', '{}')).toMatch(/catch-all never answers/);
  expect(c.check('GET', `/api/task/3f2b8c1e-9d4a-4e7b-8a61-2c5d9e0f1a2b/status/`, 400, 'application/json', JSON.stringify({ error: { code: 'validation_error', message: 'm', field: 'task_id' } }))).toBeUndefined();
});
