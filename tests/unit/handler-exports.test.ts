// Every function in serverless.yml names a handler as file.export; a renamed export would
// only surface as a 502 when that route is first called. Handler files follow one
// convention: one named `export const` per function, named for what it does.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { WORKER_HANDLER } from '../../scripts/aws/stack';

const ROOT = path.resolve(__dirname, '..', '..');
const split = (handler: string) => ({ file: handler.slice(0, handler.lastIndexOf('.')), name: handler.slice(handler.lastIndexOf('.') + 1) });
// The worker functions are generated (scripts/aws/stack.ts); the rest are written in serverless.yml.
const declared = [
  ...[...readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8').matchAll(/^\s+handler:\s*(handlers\/[\w-]+\.\w+)\s*$/gm)].map((m) => m[1]),
  WORKER_HANDLER,
].map(split);

test('serverless.yml declares handlers', () => {
  expect(declared.length).toBeGreaterThan(20);
});

test.each(declared.map((d) => [`${d.file}.${d.name}`, d]))('%s is an exported function', (_label, d) => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(path.join(ROOT, d.file));
  expect(typeof mod[d.name]).toBe('function');
});

test('no handler file exports the generic name `handler`', () => {
  for (const file of new Set(declared.map((d) => d.file))) {
    expect(readFileSync(path.join(ROOT, `${file}.ts`), 'utf8')).not.toMatch(/export (const|async function|function) handler\b/);
  }
});

test('docs/architecture.md names every handler file', () => {
  const doc = readFileSync(path.join(ROOT, 'docs', 'architecture.md'), 'utf8');
  const missing = [...new Set(declared.map((d) => `${d.file}.ts`))].filter((f) => !doc.includes(f));
  expect(missing).toEqual([]);
});
