import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../lib/core/config';
import { acquireLock, DataDirError, LOCK_FILE } from '../../scripts/local/data-dir';

test('the local data settings default to a durable .local/ with the aws stage\'s retention', () => {
  expect(loadConfig({}).local).toMatchObject({ dataDir: '.local', fresh: false, diskReserveMb: 100, resultTtlDays: 7, uploadTtlHours: 24, retentionSweepS: 3600 });
  expect(loadConfig({ RESULT_TTL_DAYS: '0.5', FRESH: 'true' }).local).toMatchObject({ resultTtlDays: 0.5, fresh: true });
});

test.each([
  [{ RESULT_TTL_DAYS: '0' }, /RESULT_TTL_DAYS must be a number greater than 0 and at most 3650, got "0"/],
  [{ RESULT_TTL_DAYS: '-1' }, /RESULT_TTL_DAYS must be a number greater than 0/],
  [{ RESULT_TTL_DAYS: '1e3' }, /RESULT_TTL_DAYS must be a number/],
  [{ RESULT_TTL_DAYS: '4000' }, /at most 3650, got "4000"/],
  [{ UPLOAD_TTL_HOURS: 'day' }, /UPLOAD_TTL_HOURS must be a number greater than 0/],
  [{ LOCAL_DISK_RESERVE_MB: '-5' }, /LOCAL_DISK_RESERVE_MB must be an integer from 0 to 1000000/],
  [{ RETENTION_SWEEP_S: '0' }, /RETENTION_SWEEP_S must be an integer from 1 to 86400/],
  [{ FRESH: 'sure' }, /FRESH must be true\/false/],
])('%j is refused: %s', (env, message) => {
  expect(() => loadConfig(env)).toThrow(ConfigError);
  expect(() => loadConfig(env)).toThrow(message);
});

describe('the data folder lock', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lock-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('is refused while the process named in it runs, and taken over once it has gone', async () => {
    const other = spawn('sleep', ['30']);
    writeFileSync(path.join(dir, LOCK_FILE), `${other.pid}\n`);
    expect(() => acquireLock(dir)).toThrow(DataDirError);
    expect(() => acquireLock(dir)).toThrow(`another npm start (pid ${other.pid}) is using the local data folder ${dir}`);
    other.kill('SIGKILL');
    await new Promise((r) => other.on('exit', r));
    const release = acquireLock(dir);
    expect(readFileSync(path.join(dir, LOCK_FILE), 'utf8').trim()).toBe(String(process.pid));
    release();
    expect(() => readFileSync(path.join(dir, LOCK_FILE))).toThrow(/ENOENT/);
  });
});
