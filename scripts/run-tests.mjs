#!/usr/bin/env node
// `npm test`: every jest project, in two jest processes side by side. The integration files
// share one stack and read its queue depth, so they run one at a time in one process; the unit,
// reliability, docs and bundle files start whatever they need themselves and run one at a time
// in the other. Most of an integration file's time is spent waiting (heartbeats, timeouts, a stack
// starting), so the second process uses the core the first leaves idle.
//
// The integration process prints as it goes; the other's output is held and printed as one
// block when it ends, so the two never interleave mid-report. The last line totals both.
// With arguments (`npm test -- tests/unit/x.test.ts`), jest runs once with them, as `npx jest`.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const jest = path.join(root, 'node_modules', 'jest', 'bin', 'jest.js');
const args = process.argv.slice(2);

const children = new Set();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of children) child.kill(signal);
  });
}

function runJest(jestArgs, { env = {}, capture = false } = {}) {
  const child = spawn(process.execPath, [jest, ...jestArgs], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit',
  });
  children.add(child);
  const chunks = [];
  if (capture) {
    child.stdout.on('data', (b) => chunks.push(b));
    child.stderr.on('data', (b) => chunks.push(b));
  }
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code: code ?? (signal ? 128 : 1), output: Buffer.concat(chunks) });
    });
  });
}

if (args.length > 0) {
  const { code } = await runJest(args);
  process.exit(code);
}

const groups = [
  { name: 'integration', projects: ['integration'], capture: false },
  { name: 'unit, reliability, docs, bundle', projects: ['unit', 'reliability', 'docs', 'bundle'], capture: true },
];
const summaries = mkdtempSync(path.join(os.tmpdir(), 'jest-summary-'));
const started = Date.now();
const results = await Promise.all(
  groups.map(async (group, i) => {
    const summaryFile = path.join(summaries, `${i}.json`);
    const projectArgs = group.projects.flatMap((p) => ['--selectProjects', p]);
    const run = await runJest(projectArgs, { env: { JEST_SUMMARY_FILE: summaryFile }, capture: group.capture });
    if (group.capture) {
      process.stdout.write(`\n──── jest: ${group.name} (ran beside the integration tests) ────\n`);
      process.stdout.write(run.output);
      process.stdout.write(`──── end of ${group.name} ────\n`);
    }
    let summary;
    try {
      summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
    } catch {
      summary = { passed: 0, failed: 0, skipped: 0, failures: [], unfinished: true };
    }
    return { group, code: run.code, summary };
  }),
);
rmSync(summaries, { recursive: true, force: true });

const total = { passed: 0, failed: 0, skipped: 0 };
process.stdout.write(`\n`);
for (const { group, code, summary } of results) {
  for (const k of Object.keys(total)) total[k] += summary[k];
  const state = summary.unfinished ? ` (ended with exit code ${code} before reporting)` : '';
  process.stdout.write(`jest ${group.name}: ${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped${state}\n`);
  for (const f of summary.failures) process.stdout.write(`  FAIL ${f.file} › ${f.title}\n`);
}
process.stdout.write(`jest: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped in ${Math.round((Date.now() - started) / 1000)} s\n`);
process.exit(results.some((r) => r.code !== 0) ? 1 : 0);
