/**
 * Values kept out of a deployment's configuration (API keys, a Redis URL with a password):
 * the configuration names where they live and the function reads them at cold start. A
 * reference is an SSM SecureString parameter (/path or arn:aws:ssm:...) or a Secrets Manager
 * secret (arn:aws:secretsmanager:... or secretsmanager:<name>).
 */
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Config } from './config';

export type SecretReader = (ref: string, cfg: Config) => Promise<string>;

export const readSecret: SecretReader = async (ref, cfg) => {
  const region = cfg.aws.region;
  if (ref.startsWith('arn:aws:secretsmanager:') || ref.startsWith('secretsmanager:')) {
    const client = new SecretsManagerClient({ region });
    const out = await client.send(new GetSecretValueCommand({ SecretId: ref.replace(/^secretsmanager:/, '') }));
    return out.SecretString ?? '';
  }
  const client = new SSMClient({ region });
  const out = await client.send(new GetParameterCommand({ Name: ref, WithDecryption: true }));
  return out.Parameter?.Value ?? '';
};
