import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { findBinary } from '../../scripts/local/processes';

const ROOT = path.resolve(__dirname, '..', '..');
const composeBinary = findBinary('docker-compose');
// .ci/run installs Debian's docker-compose; it only parses the file, no Docker engine needed.
// Missing, these checks fail rather than skip: a silent skip would pass a broken compose file.
const compose = () => {
  if (!composeBinary) throw new Error('docker-compose not found on PATH: install it (apt-get install docker-compose; .ci/run does) to check docker-compose.yml');
  return composeBinary;
};

test('docker-compose accepts docker-compose.yml and resolves the pinned LocalStack', () => {
  const out = execFileSync(compose(), ['config'], { cwd: ROOT, env: { ...process.env, LOCALSTACK_IMAGE: '', LOCALSTACK_AUTH_TOKEN: '' } }).toString();
  expect(out).toContain('image: localstack/localstack:4.14.0');
  expect(out).toMatch(/\/etc\/localstack\/init\/ready\.d/);
  for (const service of ['localstack', 'redis', 'api-1', 'api-2', 'api-3', 'loadbalancer', 'worker-1', 'worker-2', 'worker-3']) expect(out).toContain(`  ${service}:`);
  expect(out).toMatch(/worker-3:[\s\S]*?WORKER_CAPABILITIES: all/);
  expect(out).toContain("- 127.0.0.1:8000:8000");
});

test('a newer LocalStack gets the auth token passed through', () => {
  const out = execFileSync(compose(), ['config'], {
    cwd: ROOT,
    env: { ...process.env, LOCALSTACK_IMAGE: 'localstack/localstack:4.15.0', LOCALSTACK_AUTH_TOKEN: 'ls-token-123' },
  }).toString();
  expect(out).toContain('image: localstack/localstack:4.15.0');
  expect(out).toContain('LOCALSTACK_AUTH_TOKEN: ls-token-123');
});
