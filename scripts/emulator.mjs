// The embedded AWS emulator (fauxqs: SQS + S3, in memory), bound to one address.
// fauxqs's own startFauxqs() listens on 0.0.0.0; we build its app and listen where told.
// Usage: node scripts/emulator.mjs <port> [host]
import { buildApp } from 'fauxqs';

const port = Number(process.argv[2] ?? 4566);
const host = process.argv[3] ?? '127.0.0.1';
const app = buildApp({ logger: false });
try {
  await app.listen({ port, host });
} catch (e) {
  console.error(`emulator could not listen on ${host}:${port}: ${e.code ?? e.message}`);
  process.exit(e.code === 'EADDRINUSE' ? 98 : 1);
}
console.log(`emulator listening on http://${host}:${port}`);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => app.close().finally(() => process.exit(0)));
}
