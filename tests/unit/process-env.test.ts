// glibc reads its malloc settings once, at process start, so they are copied into each place
// that starts an image process. These copies must not drift from lib/core/process-env.ts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { IMAGE_PROCESS_ENV } from '../../lib/core/process-env';

const ROOT = path.resolve(__dirname, '..', '..');
const read = (f: string) => readFileSync(path.join(ROOT, f), 'utf8');
const pairs = Object.entries(IMAGE_PROCESS_ENV);

test('`npm run worker` starts the worker with the malloc settings', () => {
  const script: string = JSON.parse(read('package.json')).scripts.worker;
  expect(script.startsWith(`env ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')} node `)).toBe(true);
});

test('the Dockerfile (API and compose workers) sets the same values', () => {
  expect(read('Dockerfile')).toContain(`ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`);
});

test("serverless.yml's provider environment (every Lambda function) sets the same values", () => {
  const yml = read('serverless.yml');
  for (const [k, v] of pairs) expect(yml).toMatch(new RegExp(`^    ${k}: '${v}'$`, 'm'));
});
