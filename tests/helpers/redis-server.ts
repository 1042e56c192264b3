/**
 * A redis-server of the test's own, on a free port, persisted with appendfsync always (as a
 * production one would be) so killing and restarting it keeps the data. Killing it disturbs
 * nothing else on the machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../scripts/local/processes';
import { sleep } from '../../lib/core/time';

export interface PrivateRedis {
  url: string;
  start: () => Promise<void>;
  /** SIGKILL: an outage, not a shutdown. */
  kill: () => Promise<void>;
  /** Kill it and remove its data directory. */
  remove: () => Promise<void>;
}

export async function privateRedis(name: string): Promise<PrivateRedis> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const kill = () =>
    new Promise<void>((resolve) => {
      if (!child || child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  return {
    url: `redis://127.0.0.1:${port}`,
    start: () => {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], { stdio: 'ignore' });
      return sleep(400);
    },
    kill,
    remove: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
