/**
 * The dependency rules of docs/architecture.md: lib never imports handlers, scripts,
 * bench or tests; lib/core imports no domain folder except the one declared exception; the
 * domain folders import only their own layer or those below it; bench never imports tests.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const LIB = path.join(ROOT, 'lib');
/** lib/core/http.ts records every request in the request statistics (docs/architecture.md). */
const DECLARED_EXCEPTIONS = new Set(['lib/core/http.ts -> lib/observability/stats']);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.(ts|js|mjs)$/.test(f) ? [p] : [];
  });
}

function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]);
  return specs.map((s) => path.relative(ROOT, path.resolve(path.dirname(file), s)));
}

const files = sources(LIB);

test('the scan sees every lib folder', () => {
  const folders = new Set(files.map((f) => path.relative(LIB, f).split(path.sep)[0]));
  expect([...folders].sort()).toEqual(['api', 'batch', 'core', 'filters', 'images', 'jobs', 'observability', 'tasks', 'worker']);
});

test('nothing in lib imports handlers, scripts, bench or tests', () => {
  const offending = files.flatMap((f) => relativeImports(f).filter((t) => /^(handlers|scripts|bench|tests)\//.test(t)).map((t) => `${path.relative(ROOT, f)} -> ${t}`));
  expect(offending).toEqual([]);
});

test('lib/core imports no domain folder (but the declared exception)', () => {
  const core = files.filter((f) => path.relative(LIB, f).startsWith('core'));
  const offending = core.flatMap((f) =>
    relativeImports(f)
      .filter((t) => t.startsWith('lib/') && !t.startsWith('lib/core/'))
      .map((t) => `${path.relative(ROOT, f)} -> ${t}`)
      .filter((edge) => !DECLARED_EXCEPTIONS.has(edge)),
  );
  expect(offending).toEqual([]);
});

/**
 * Lowest first: a folder may import its own layer's folders and those below, never above.
 * Filters and images know nothing of tasks or jobs; tasks and jobs know nothing of the workers that run them;
 * observability and the API document (lib/api) read everything.
 */
const DOMAIN_LAYERS = [['filters', 'images'], ['batch', 'tasks', 'jobs'], ['worker'], ['observability', 'api']];

function layerOf(libPath: string): number {
  const folder = libPath.split('/')[1];
  return DOMAIN_LAYERS.findIndex((layer) => layer.includes(folder));
}

test('every domain folder has a layer', () => {
  const domain = new Set(files.map((f) => path.relative(LIB, f).split(path.sep)[0]).filter((f) => f !== 'core'));
  expect([...domain].filter((f) => layerOf(`lib/${f}/`) < 0)).toEqual([]);
});

test('no domain folder imports a layer above its own', () => {
  const offending = files.flatMap((f) => {
    const from = path.relative(ROOT, f);
    const own = layerOf(from);
    if (own < 0) return [];
    return relativeImports(f)
      .filter((t) => t.startsWith('lib/') && layerOf(t) > own)
      .map((t) => `${from} -> ${t}`);
  });
  expect(offending).toEqual([]);
});

test('bench imports nothing from tests', () => {
  const bench = sources(path.join(ROOT, 'bench'));
  const offending = bench.flatMap((f) => relativeImports(f).filter((t) => t.startsWith('tests/')).map((t) => `${path.relative(ROOT, f)} -> ${t}`));
  expect(offending).toEqual([]);
});
