/**
 * `npm run clean`: empties the local data folder (LOCAL_DATA_DIR, .local/): the bucket's
 * objects, the private Redis's file, the webhook signing secret, the stack's address book.
 * Node builds cached there by the tests are kept. Refuses while an npm start uses the folder.
 */
import { ConfigError, loadConfig } from '../lib/core/config';
import { dataDirPath, emptyDataDir, lockHolder } from './local/data-dir';

function main(): number {
  let dir: string;
  try {
    dir = dataDirPath(loadConfig().local.dataDir);
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
  if (removed.length) process.stdout.write('[clean] the next npm start begins empty (and generates a new webhook signing secret)\n');
  return 0;
}

process.exitCode = main();
