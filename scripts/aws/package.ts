/**
 * `npm run package:aws`: `sls package --stage aws` (extra arguments passed on), after checking
 * what the packager would otherwise report as an unresolved variable deep in its output.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { MISSING_API_KEYS_SECRET } from './stack';

const ROOT = path.resolve(__dirname, '..', '..');

if (!process.env.API_KEYS_SECRET) {
  process.stderr.write(`[package] cannot package: ${MISSING_API_KEYS_SECRET}\n`);
  process.exit(2);
}
const sls = path.join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js');
const run = spawnSync(process.execPath, [sls, 'package', '--stage', 'aws', ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { SLS_TELEMETRY_DISABLED: '1', ...process.env },
});
process.exit(run.status ?? 1);
