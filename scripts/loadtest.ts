/**
 * `npm run loadtest [-- --url http://127.0.0.1:8000 --duration 5 --levels 1,10,50]`
 * The seed's Day-1 "load testing": autocannon against a running API (start it with
 * `npm start`), each Day-1 endpoint at several concurrency levels, then fast requests
 * while slow ones are in flight, to show that waiting does not block serving.
 */
import autocannon from 'autocannon';
import { parseArgs } from 'node:util';
import { round } from '../lib/core/numbers';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:8000' },
    duration: { type: 'string', default: '5' },
    levels: { type: 'string', default: '1,10,50' },
  },
});
const base = values.url!.replace(/\/+$/, '');
const duration = Number(values.duration);
const levels = values.levels!.split(',').map(Number);
if (!(duration > 0 && duration <= 120) || levels.some((l) => !(Number.isInteger(l) && l >= 1 && l <= 500))) {
  console.error('--duration must be 1..120 seconds and --levels a comma list of integers 1..500');
  process.exit(2);
}

interface Row {
  endpoint: string;
  connections: number;
  reqPerS: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function run(path: string, connections: number, seconds = duration): Promise<Row> {
  const r = await autocannon({ url: base + path, connections, duration: seconds });
  return {
    endpoint: path,
    connections,
    reqPerS: round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}

function table(rows: Row[]): string {
  const head = '| endpoint | connections | req/s | p50 ms | p99 ms | errors | non-2xx |\n|---|---|---|---|---|---|---|';
  return [head, ...rows.map((r) => `| \`${r.endpoint}\` | ${r.connections} | ${r.reqPerS} | ${r.p50} | ${r.p99} | ${r.errors} | ${r.non2xx} |`)].join('\n');
}

async function main() {
  const health = await fetch(`${base}/api/health/`).catch(() => undefined);
  if (!health) {
    console.error(`nothing answers at ${base}; start the system first with \`npm start\``);
    process.exit(1);
  }
  const endpoints = ['/api/health/', '/api/image/info/', '/api/image/4k/', '/api/image/slow/?delay=0.5'];
  const rows: Row[] = [];
  const total = endpoints.length * levels.length;
  for (const ep of endpoints) {
    for (const c of levels) {
      process.stderr.write(`[loadtest] ${rows.length + 1}/${total}: ${ep} with ${c} connections for ${duration} s\n`);
      rows.push(await run(ep, c));
    }
  }
  console.log(`\n## Day-1 endpoints (${base}, ${duration} s per row)\n\n${table(rows)}`);

  process.stderr.write(`[loadtest] mixed: /api/image/info/ alone, then beside 20 connections held by slow?delay=2\n`);
  const alone = await run('/api/image/info/', 5);
  const [beside] = await Promise.all([run('/api/image/info/', 5), run('/api/image/slow/?delay=2', 20)]);
  console.log(
    `\n## Slow requests do not block fast ones\n\n| /api/image/info/ with 5 connections | req/s | p50 ms | p99 ms |\n|---|---|---|---|\n` +
      `| alone | ${alone.reqPerS} | ${alone.p50} | ${alone.p99} |\n| while 20 slow (2 s) requests are in flight | ${beside.reqPerS} | ${beside.p50} | ${beside.p99} |\n`,
  );
}

void main();
