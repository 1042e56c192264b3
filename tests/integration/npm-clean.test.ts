/**
 * `npm run clean` empties the local data folder (bucket, Redis file, webhook secret, address
 * book) and keeps the Node builds the tests cache there; it refuses while an npm start uses
 * the folder.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, startStack } from '../helpers/stack';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'npm-clean-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const clean = () => spawnSync('npm', ['run', 'clean'], { cwd: ROOT, env: { ...process.env, LOCAL_DATA_DIR: dir }, encoding: 'utf8' });

test('npm run clean refuses while npm start uses the folder, then empties it but for the Node caches', async () => {
  const stack = await startStack({ LOCAL_DATA_DIR: dir }, 'npm-clean');
  try {
    const refused = clean();
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain(`[clean] refused: npm start (pid ${stack.pid}) is using ${dir}; stop it first`);
    expect(readdirSync(path.join(dir, 's3')).length).toBeGreaterThan(0);
  } finally {
    await stack.stop();
  }
  mkdirSync(path.join(dir, 'node24', 'bin'), { recursive: true });
  writeFileSync(path.join(dir, 'webhook-secret'), 'x');
  const done = clean();
  expect(done.status).toBe(0);
  expect(done.stdout).toContain(`[clean] removed ${path.join(dir, 's3')}`);
  expect(done.stdout).toContain(path.join(dir, 'webhook-secret'));
  expect(readdirSync(dir)).toEqual(['node24']);
  expect(clean().stdout).toContain(`[clean] ${dir} holds nothing to remove`);
}, 120_000);
