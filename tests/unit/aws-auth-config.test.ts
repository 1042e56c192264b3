// The aws stage's serverless configuration: no deployment without keys, and every route but
// health, the dashboard's files and the API reference behind the API-key authorizer.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const SLS = path.join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js');
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:image-pipeline-keys-AbCdEf';
const OPEN = ['GET /api/health/', 'GET /dashboard/', 'GET /dashboard/{asset}', 'GET /', 'GET /api/openapi.json', 'GET /api/docs/', 'GET /api/docs/{asset}'];

function sls(args: string[], env: Record<string, string | undefined>) {
  const merged: NodeJS.ProcessEnv = { ...process.env, SLS_TELEMETRY_DISABLED: '1', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete merged[k];
  return spawnSync(process.execPath, [SLS, ...args], { cwd: ROOT, env: merged, encoding: 'utf8', timeout: 120_000 });
}

test('packaging the aws stage without API_KEYS_SECRET fails, naming the setting', () => {
  const res = sls(['package', '--stage', 'aws', '--package', path.join(ROOT, 'test-artifacts', 'no-keys-package')], { API_KEYS_SECRET: undefined, API_KEYS: 'plain-text-key' });
  expect(res.status).not.toBe(0);
  expect(res.stdout + res.stderr).toMatch(/API_KEYS_SECRET is not set: the aws stage needs the SSM parameter or Secrets Manager secret/);
  expect(res.stdout + res.stderr).not.toMatch(/Value not found at/);
}, 120_000);

test('npm run package:aws without API_KEYS_SECRET says in one line what to set, before packaging', () => {
  const env: NodeJS.ProcessEnv = { ...process.env, SLS_TELEMETRY_DISABLED: '1' };
  delete env.API_KEYS_SECRET;
  const res = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'aws', 'package.ts')], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
  expect(res.status).toBe(2);
  expect(res.stdout).toBe('');
  const lines = res.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^\[package\] cannot package: API_KEYS_SECRET is not set: .*e\.g\. API_KEYS_SECRET=arn:aws:ssm:/);
});

test('with a secret: every route but health, the dashboard and the API reference has the request authorizer; keys never in plain text', () => {
  const res = sls(['print', '--stage', 'aws', '--format', 'json'], { API_KEYS_SECRET: SECRET_ARN, API_KEYS: 'plain-text-key' });
  expect(res.status).toBe(0);
  const cfg = JSON.parse(res.stdout.slice(res.stdout.indexOf('{')));
  expect(cfg.provider.httpApi.authorizers.apiKey).toMatchObject({
    type: 'request',
    functionName: 'authorizer',
    enableSimpleResponses: true,
  });
  // Cached per Authorization header: requests without one never reach the authorizer.
  expect([cfg.provider.httpApi.authorizers.apiKey.identitySource].flat()).toEqual(['$request.header.Authorization']);
  expect(cfg.provider.httpApi.authorizers.apiKey.resultTtlInSeconds).toBeGreaterThan(0);
  const routes: [string, unknown][] = [];
  for (const fn of Object.values<any>(cfg.functions)) {
    for (const e of fn.events ?? []) {
      if (e.httpApi) routes.push([typeof e.httpApi === 'string' ? e.httpApi : `${e.httpApi.method} ${e.httpApi.path}`, e.httpApi.authorizer]);
    }
  }
  expect(routes.length).toBeGreaterThan(20);
  for (const [route, authorizer] of routes) {
    if (OPEN.includes(route)) expect(authorizer).toBeUndefined();
    else expect({ route, authorizer }).toEqual({ route, authorizer: { name: 'apiKey' } });
  }
  expect(cfg.functions.authorizer.environment.API_KEYS_SECRET).toBe(SECRET_ARN);
  // The shell's API_KEYS must not reach an aws function.
  expect(res.stdout).not.toContain('plain-text-key');
  expect(cfg.provider.environment.RATE_LIMIT_PER_MINUTE).toBe('');
}, 120_000);
