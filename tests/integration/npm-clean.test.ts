/**
 * `npm run clean` empties the local data folder (bucket, Redis file, webhook secret, address
 * book) and keeps the Node builds the tests cache there; with a Redis of the user's own it
 * removes the keys under REDIS_PREFIX too. It refuses while an npm start uses the folder.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { ROOT, startStack } from '../helpers/stack';
import { submit } from '../helpers/workers';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'npm-clean-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let prefix: string;
const clean = () => spawnSync('npm', ['run', 'clean'], { cwd: ROOT, env: { ...process.env, LOCAL_DATA_DIR: dir, REDIS_PREFIX: prefix }, encoding: 'utf8' });
const redis = new Redis('redis://127.0.0.1:6379');
afterAll(() => redis.quit());

test('npm run clean refuses while npm start uses the folder, then empties it but for the Node caches', async () => {
  const stack = await startStack({ LOCAL_DATA_DIR: dir }, 'npm-clean');
  prefix = stack.env.REDIS_PREFIX;
  try {
    await submit(stack, { filters: ['blur'], images: ['sample_4k.jpg'] });
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
  expect(done.stdout).toMatch(new RegExp(`\\[clean\\] redis redis://127.0.0.1:6379: removed [1-9]\\d* key\\(s\\) under "${prefix}:"`));
  expect(await redis.keys(`${prefix}:*`)).toEqual([]);
  const again = clean().stdout;
  expect(again).toContain(`[clean] ${dir} holds nothing to remove`);
  expect(again).toContain(`removed 0 key(s) under "${prefix}:"`);
}, 120_000);
