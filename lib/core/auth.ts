/**
 * Bearer API keys: the one check every stage runs. On AWS it runs in the HTTP API's Lambda
 * request authorizer (handlers/authorizer.ts); locally in the shared HTTP wrapper
 * (lib/core/http.ts), because serverless-offline's emulation of the authorizer cannot answer
 * with this API's JSON errors and WWW-Authenticate, and rejects a request without an
 * Authorization header before the authorizer runs, which the open local default needs to pass.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Config } from './config';
import { ConfigError } from './config';
import { UnauthorizedError } from './errors';
import { readSecret, type SecretReader } from './secrets';

export type Principal = { kind: 'key'; id: string } | { kind: 'anonymous' };

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** A key set held as SHA-256 digests: equal-length buffers, so timingSafeEqual applies to any key length. */
export class KeySet {
  private readonly digests: Buffer[];
  constructor(keys: string[]) {
    this.digests = keys.map(digest);
  }
  get enabled(): boolean {
    return this.digests.length > 0;
  }
  /** Compares against every key, without stopping early, so timing does not tell which one matched. */
  matches(candidate: string): boolean {
    const d = digest(candidate);
    let ok = false;
    for (const k of this.digests) ok = timingSafeEqual(d, k) || ok;
    return ok;
  }
}

export function bearerToken(authorization: string | undefined): string | undefined {
  return /^Bearer[ \t]+([\x21-\x7e]+)[ \t]*$/i.exec(authorization ?? '')?.[1];
}

/**
 * The check. Open (no keys configured) lets everyone in as anonymous. The principal id is a
 * digest prefix, never the key, so it can name rate-limit counters and log lines.
 */
export function authenticate(keys: KeySet, authorization: string | undefined): Principal {
  if (!keys.enabled) return { kind: 'anonymous' };
  if (authorization === undefined || authorization.trim() === '') {
    throw new UnauthorizedError('missing API key: send Authorization: Bearer <key>', { field: 'authorization' });
  }
  const token = bearerToken(authorization);
  if (token === undefined || !keys.matches(token)) {
    throw new UnauthorizedError('invalid API key', { field: 'authorization' });
  }
  return { kind: 'key', id: digest(token).toString('hex').slice(0, 16) };
}

let cache: { keys: Promise<KeySet>; at: number } | undefined;

/** The configured keys: API_KEYS directly, else the secret, read once per TTL (cold start, rotation). */
export function apiKeys(cfg: Config, reader: SecretReader = readSecret): Promise<KeySet> {
  if (cfg.auth.secretRef === undefined) return Promise.resolve(new KeySet(cfg.auth.keys));
  const ref = cfg.auth.secretRef;
  if (cache === undefined || Date.now() - cache.at > cfg.auth.secretTtlS * 1000) {
    const keys = reader(ref, cfg).then((text) => {
      const list = text.split(',').map((k) => k.trim()).filter((k) => k !== '');
      // An empty secret must not silently open the API.
      if (list.length === 0) throw new ConfigError(`API_KEYS_SECRET ${ref} holds no keys`);
      return new KeySet(list);
    });
    cache = { keys, at: Date.now() };
    // A failed read is retried on the next request rather than cached.
    keys.catch(() => (cache = undefined));
  }
  return cache.keys;
}
