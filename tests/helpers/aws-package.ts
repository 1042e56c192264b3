/**
 * `serverless package --stage aws` runs offline (no credentials, no AWS calls) and yields the
 * CloudFormation template and the artifact the aws stage would deploy.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildDashboard } from '../../scripts/build-dashboard';

export const ROOT = path.resolve(__dirname, '..', '..');
export const SECRET_ARN = 'arn:aws:ssm:us-east-1:123456789012:parameter/image-pipeline/api-keys';

export interface CfnTemplate {
  Resources: Record<string, { Type: string; Properties: any }>;
  Outputs: Record<string, any>;
}

export interface PackagedStage {
  dir: string;
  template: CfnTemplate;
  /** What `serverless package` printed, stdout and stderr. */
  log: string;
}

/** Packages the aws stage into a fresh temporary directory with `env` over the current environment. */
export async function packageAwsStage(env: Record<string, string>): Promise<PackagedStage> {
  await buildDashboard();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sls-package-'));
  const run = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js'), 'package', '--stage', 'aws', '--package', dir], {
    cwd: ROOT,
    env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', AWS_ENDPOINT_URL: '', API_KEYS_SECRET: SECRET_ARN, ...env },
    encoding: 'utf8',
    timeout: 240_000,
  });
  const log = `${run.stdout ?? ''}${run.stderr ?? ''}`;
  if (run.error || run.status !== 0) throw new Error(`serverless package failed (${run.error?.message ?? `exit ${run.status}`}):\n${log}`);
  return { dir, template: JSON.parse(readFileSync(path.join(dir, 'cloudformation-template-update-stack.json'), 'utf8')), log };
}

export const resourcesOfType = (template: CfnTemplate, type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);
