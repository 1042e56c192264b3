/**
 * The dependency rules of docs/architecture.md: lib never imports handlers, scripts,
 * bench or tests, and lib/core imports no domain folder except the one declared exception.
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
  expect([...folders].sort()).toEqual(['api', 'batch', 'core', 'filters', 'images', 'observability', 'tasks', 'worker']);
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
