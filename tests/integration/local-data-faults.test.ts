/**
 * The local data folder npm start cannot use: in the way of a file, too little free space,
 * or already used by another npm start. Each is refused at start with the folder's path and
 * what to do, before any process is started on it.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isolatedEnv, spawnStart, startStack } from '../helpers/stack';

let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'local-data-faults-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

test('a data folder that cannot be written is refused, naming its path', async () => {
  const file = path.join(scratch, 'a-file');
  writeFileSync(file, 'not a folder');
  const dir = path.join(file, 'data');
  const run = spawnStart(await isolatedEnv({ LOCAL_DATA_DIR: dir }), 'data-dir-unwritable');
  expect(await run.done).toBe(2);
  expect(run.output()).toContain(`cannot start: the local data folder ${dir} is not writable (a file is in the way of the folder, ENOTDIR); make it writable, or choose another: LOCAL_DATA_DIR=<folder> npm start`);
  expect(run.output()).not.toMatch(/\[(redis|emulator|api)\]/);
}, 60_000);

test('a data folder on a disk with less free space than LOCAL_DISK_RESERVE_MB is refused', async () => {
  const dir = path.join(scratch, 'reserve');
  const run = spawnStart(await isolatedEnv({ LOCAL_DATA_DIR: dir, LOCAL_DISK_RESERVE_MB: '1000000' }), 'data-dir-reserve');
  expect(await run.done).toBe(2);
  expect(run.output()).toMatch(new RegExp(`cannot start: the local data folder ${dir} has \\d+ MB free, less than LOCAL_DISK_RESERVE_MB=1000000; free some space \\(npm run clean empties the local data\\)`));
}, 60_000);

test('a second npm start on the same data folder is refused while the first runs, and allowed after it stops', async () => {
  const dir = path.join(scratch, 'shared');
  const first = await startStack({ LOCAL_DATA_DIR: dir }, 'data-dir-first');
  try {
    // Other ports and names: only the folder is shared.
    const second = spawnStart(await isolatedEnv({ LOCAL_DATA_DIR: dir }), 'data-dir-second');
    expect(await second.done).toBe(2);
    expect(second.output()).toContain(`cannot start: another npm start (pid ${first.pid}) is using the local data folder ${dir}. Stop it first, or give this one its own folder and ports: LOCAL_DATA_DIR=<folder> PORT=<port> npm start`);
    expect(second.output()).not.toMatch(/\[(redis|emulator|api)\]/);
    expect((await fetch(`${first.url}/api/health/`)).status).toBe(200);
  } finally {
    await first.stop();
  }
  expect(existsSync(path.join(dir, 'stack.lock'))).toBe(false);
  const third = await startStack({ LOCAL_DATA_DIR: dir }, 'data-dir-third');
  await third.stop();
}, 180_000);
