// The embedded AWS emulator (fauxqs: SQS in memory, S3 on disk when given a data folder),
// bound to one address. fauxqs's own startFauxqs() listens on 0.0.0.0; we build its app and
// listen where told.
// Usage: node scripts/emulator.mjs <port> [host]
//   EMULATOR_DATA_DIR    the bucket's folder (scripts/local/disk-s3-store.mjs); unset: memory
//   EMULATOR_RESERVE_MB  free space a write must leave on that folder's disk (else 503)
import { buildApp } from 'fauxqs';
import { DiskS3Store } from './local/disk-s3-store.mjs';

const port = Number(process.argv[2] ?? 4566);
const host = process.argv[3] ?? '127.0.0.1';
const dataDir = process.env.EMULATOR_DATA_DIR;
let stores;
if (dataDir) {
  try {
    stores = { s3Store: new DiskS3Store(dataDir, { reserveBytes: Number(process.env.EMULATOR_RESERVE_MB ?? 0) * 2 ** 20 }) };
  } catch (e) {
    console.error(`emulator cannot use its data folder ${dataDir}: ${e.code ?? e.message}`);
    process.exit(1);
  }
}
const app = buildApp({ logger: false, stores });
try {
  await app.listen({ port, host });
} catch (e) {
  console.error(`emulator could not listen on ${host}:${port}: ${e.code ?? e.message}`);
  process.exit(e.code === 'EADDRINUSE' ? 98 : 1);
}
console.log(`emulator listening on http://${host}:${port}${dataDir ? `, bucket data in ${dataDir}` : ''}`);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => app.close().finally(() => process.exit(0)));
}
