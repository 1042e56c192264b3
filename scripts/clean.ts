/**
 * `npm run clean`: empties the local data folder (LOCAL_DATA_DIR, .local/): the bucket's
 * objects, the private Redis's file, the webhook signing secret, the stack's address book.
 * Node builds cached there by the tests are kept. A Redis that answers at REDIS_URL (one the
 * user runs) loses the keys under REDIS_PREFIX too: they describe the objects just removed,
 * and the next start would otherwise recompute every result. Refuses while an npm start uses
 * the folder.
 */
import Redis from 'ioredis';
import { ConfigError, loadConfig, type Config } from '../lib/core/config';
import { clearRedisPrefix, dataDirPath, emptyDataDir, lockHolder } from './local/data-dir';

/** The keys under REDIS_PREFIX in a Redis that answers at REDIS_URL; undefined when none answers. */
async function clearRedis(cfg: Config): Promise<number | undefined> {
  const redis = new Redis(cfg.redis.url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
  } catch {
    return undefined;
  }
  try {
    return await clearRedisPrefix(redis, cfg.redis.prefix);
  } finally {
    redis.disconnect();
  }
}

async function main(): Promise<number> {
  let cfg: Config;
  let dir: string;
  try {
    cfg = loadConfig();
    dir = dataDirPath(cfg.local.dataDir);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    process.stderr.write(`[clean] configuration error: ${e.message}\n`);
    return 2;
  }
  const holder = lockHolder(dir);
  if (holder !== undefined) {
    process.stderr.write(`[clean] refused: npm start (pid ${holder}) is using ${dir}; stop it first (Ctrl-C in its shell)\n`);
    return 1;
  }
  const removed = emptyDataDir(dir);
  process.stdout.write(`[clean] ${removed.length ? `removed ${removed.join(', ')}` : `${dir} holds nothing to remove`}\n`);
  const keys = await clearRedis(cfg);
  if (keys !== undefined) process.stdout.write(`[clean] redis ${cfg.redis.url}: removed ${keys} key(s) under "${cfg.redis.prefix}:"\n`);
  if (removed.length || keys) process.stdout.write('[clean] the next npm start begins empty (and generates a new webhook signing secret)\n');
  return 0;
}

void main().then((code) => (process.exitCode = code));
