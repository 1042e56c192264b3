/**
 * The folder where `npm start` keeps the local stack's state (LOCAL_DATA_DIR, default
 * .local/): the bucket's objects (s3/), the private Redis's append-only file (redis/), and a
 * lock naming the npm start that uses them. docs/configuration.md ("Local data") describes
 * the layout.
 */
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statfsSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import type Redis from 'ioredis';
import { processAlive, PROJECT_ROOT } from './stack-state';

export const LOCK_FILE = 'stack.lock';
/** What `npm start -- --fresh` and `npm run clean` remove: the stack's data, not download caches. */
const DATA_ENTRIES = ['s3', 'redis'];
/** Folders of .local/ that are download caches (the tests' and CI's Node builds), kept by `npm run clean`. */
const CACHE_ENTRY = /^(ci-)?node\d+$/;

export class DataDirError extends Error {}

const WRITE_FAILURES: Record<string, string> = {
  ENOTDIR: 'a file is in the way of the folder',
  EEXIST: 'a file is in the way of the folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the disk',
  EDQUOT: 'disk quota exceeded',
};

export function dataDirPath(dir: string): string {
  return path.resolve(PROJECT_ROOT, dir);
}

/** Free bytes for an unprivileged writer on the file system holding `dir`. */
export function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/**
 * Makes sure `dir` exists, takes a flushed write and a rename, and has more than `reserveMb`
 * free; otherwise a DataDirError naming the path and what to do.
 */
export function checkDataDir(dir: string, reserveMb: number): void {
  const probe = path.join(dir, `.probe-${process.pid}`);
  try {
    mkdirSync(dir, { recursive: true });
    const fd = openSync(`${probe}.tmp`, 'w', 0o600);
    try {
      writeSync(fd, 'probe');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(`${probe}.tmp`, probe);
    unlinkSync(probe);
  } catch (e) {
    try {
      rmSync(`${probe}.tmp`, { force: true });
    } catch {
      /* the folder itself is what failed */
    }
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    const why = WRITE_FAILURES[code] ? `${WRITE_FAILURES[code]}, ${code}` : code;
    throw new DataDirError(`the local data folder ${dir} is not writable (${why}); make it writable, or choose another: LOCAL_DATA_DIR=<folder> npm start`);
  }
  const free = freeBytes(dir);
  if (free < reserveMb * 2 ** 20) {
    throw new DataDirError(
      `the local data folder ${dir} has ${Math.floor(free / 2 ** 20)} MB free, less than LOCAL_DISK_RESERVE_MB=${reserveMb}; ` +
        'free some space (npm run clean empties the local data), or choose another folder: LOCAL_DATA_DIR=<folder> npm start',
    );
  }
}

/** The pid holding `dir`'s lock, if that process is still running. */
export function lockHolder(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(path.join(dir, LOCK_FILE), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes `dir`'s lock for this process, so a second npm start cannot run a second emulator
 * and Redis on the same files. A lock left by a process that no longer runs (kill -9) is
 * taken over. The lock is created by link(2), which fails if it exists, so two starts racing
 * cannot both take it.
 */
export function acquireLock(dir: string): () => void {
  const lock = path.join(dir, LOCK_FILE);
  const mine = `${lock}.${process.pid}`;
  writeFileSync(mine, `${process.pid}\n`);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(mine, lock);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e;
        const holder = lockHolder(dir);
        if (holder !== undefined) {
          throw new DataDirError(
            `another npm start (pid ${holder}) is using the local data folder ${dir}. ` +
              'Stop it first, or give this one its own folder and ports: LOCAL_DATA_DIR=<folder> PORT=<port> npm start',
          );
        }
        rmSync(lock, { force: true });
      }
    }
  } finally {
    rmSync(mine, { force: true });
  }
  return () => {
    if (readFileSync(lock, 'utf8').trim() === String(process.pid)) rmSync(lock, { force: true });
  };
}

/** Removes the stack's data (bucket objects, Redis file) from `dir`; what it removed. */
export function removeData(dir: string): string[] {
  const removed: string[] = [];
  for (const entry of DATA_ENTRIES) {
    const p = path.join(dir, entry);
    if (readdirSafe(dir).includes(entry)) {
      rmSync(p, { recursive: true, force: true });
      removed.push(p);
    }
  }
  return removed;
}

/** Everything in `dir` but the download caches (`npm run clean`); what it removed. */
export function emptyDataDir(dir: string): string[] {
  const removed: string[] = [];
  for (const entry of readdirSafe(dir)) {
    if (CACHE_ENTRY.test(entry)) continue;
    rmSync(path.join(dir, entry), { recursive: true, force: true });
    removed.push(path.join(dir, entry));
  }
  return removed;
}

function readdirSafe(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Deletes the keys under `prefix` (SCAN, not KEYS, so a big Redis is not blocked); how many. */
export async function clearRedisPrefix(redis: Redis, prefix: string): Promise<number> {
  let cleared = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length) cleared += await redis.unlink(...keys);
  } while (cursor !== '0');
  return cleared;
}
