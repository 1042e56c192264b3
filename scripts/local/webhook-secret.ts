/**
 * `npm start` without WEBHOOK_SECRET or WEBHOOK_SECRET_REF: the webhook signing secret is
 * generated once into a file only its owner can read (WEBHOOK_SECRET_FILE, default
 * .local/webhook-secret) and read from there on every later start, so receivers configured with
 * it keep verifying across restarts.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from './stack-state';

export interface LocalWebhookSecret {
  secret: string;
  /** Absolute path of the file holding it. */
  path: string;
  created: boolean;
}

const VALID = /^[\x21-\x7e]{16,512}$/;

export function ensureWebhookSecret(file: string): LocalWebhookSecret {
  const target = path.resolve(PROJECT_ROOT, file);
  let existing: string | undefined;
  try {
    existing = readFileSync(target, 'utf8').trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read the webhook secret in ${target}: ${(e as Error).message}`);
  }
  if (existing !== undefined) {
    if (!VALID.test(existing)) throw new Error(`${target} does not hold a webhook secret (16-512 printable characters); delete it to have a new one generated`);
    // Kept private even if something loosened it.
    if ((statSync(target).mode & 0o077) !== 0) chmodSync(target, 0o600);
    return { secret: existing, path: target, created: false };
  }
  const secret = `whsec_${randomBytes(32).toString('base64url')}`;
  mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
  // Written whole with its final mode, then renamed: never readable by others, never half written.
  const tmp = `${target}.${process.pid}.tmp`;
  writeFileSync(tmp, `${secret}\n`, { mode: 0o600 });
  renameSync(tmp, target);
  return { secret, path: target, created: true };
}
