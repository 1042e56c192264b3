/**
 * SQS, S3 and Redis clients, created once per process from config and shared by every
 * handler in it. Domain modules take a `Clients` argument so tests can hand in their own.
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import Redis from 'ioredis';
import { config, ConfigError, type Config } from './config';
import { dependency } from './dependencies';
import { readSecret, type SecretReader } from './secrets';

export interface Clients {
  config: Config;
  sqs: SQSClient;
  s3: S3Client;
  redis: Redis;
  /** Redis key under this deployment's prefix. */
  key: (...parts: string[]) => string;
}

function awsClientOptions(cfg: Config) {
  const local = cfg.aws.endpoint !== undefined;
  return {
    region: cfg.aws.region,
    ...(local
      ? {
          endpoint: cfg.aws.endpoint,
          // Emulators accept any credentials; real AWS uses the default provider chain.
          credentials: cfg.aws.emulatorCredentials,
          // Toward an emulator on loopback a CRC32 of every body protects nothing, and it costs
          // a worker ~0.7 ms of CPU per 1 MB result.
          // Real AWS keeps the SDK's defaults: checksums end to end.
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }
      : {}),
    maxAttempts: 2,
    // Resolve each command's middleware stack once per client, not on every send (~1 ms of a
    // worker's CPU per task over its four calls). Nothing here adds per-command middleware,
    // which this cache would ignore; the presigner resolves its own stack.
    cacheMiddleware: true,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: cfg.limits.dependencyTimeoutMs,
      requestTimeout: cfg.limits.dependencyTimeoutMs * 5,
    }),
  };
}

export function createRedis(cfg: Config, opts: { name?: string } = {}): Redis {
  return new Redis(cfg.redis.url, {
    connectionName: opts.name,
    connectTimeout: cfg.limits.dependencyTimeoutMs,
    // Fail commands after a bounded wait instead of queueing forever while Redis is down,
    // so the API answers 503 quickly and recovers by itself when Redis returns.
    commandTimeout: cfg.limits.dependencyTimeoutMs,
    maxRetriesPerRequest: 1,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
    lazyConnect: false,
  });
}

export function createClients(cfg: Config = config()): Clients {
  const redis = createRedis(cfg, { name: 'image-pipeline' });
  // ioredis emits 'error' on every failed reconnect; without a listener Node prints each one.
  redis.on('error', () => undefined);
  const aws = awsClientOptions(cfg);
  return {
    config: cfg,
    sqs: new SQSClient(aws),
    s3: s3Client(cfg, aws),
    redis,
    key: (...parts) => [cfg.redis.prefix, ...parts].join(':'),
  };
}

/**
 * SigV4 signs a Buffer body by hashing all of it (SHA-256, ~0.6 ms of a worker's CPU per
 * 1 MB result) unless told the payload is unsigned. An emulator checks no signature, so
 * toward one a request with a body goes unsigned; real AWS keeps signed payloads. Requests
 * without a body (and presigned URLs, which carry no body and would otherwise get the header
 * copied into their query string) are left as the SDK makes them.
 */
function s3Client(cfg: Config, aws: ReturnType<typeof awsClientOptions>): S3Client {
  const local = cfg.aws.endpoint !== undefined;
  const s3 = new S3Client({ ...aws, forcePathStyle: local });
  if (local) {
    s3.middlewareStack.add(
      (next) => (args) => {
        const { headers, body } = args.request as { headers?: Record<string, string>; body?: unknown };
        if (headers && body !== undefined) headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
        return next(args);
      },
      { step: 'build', name: 'emulatorUnsignedPayload' },
    );
  }
  return s3;
}

let shared: Clients | undefined;

/** The process-wide clients, created on first use (local processes; handlers use readyClients). */
export function clients(): Clients {
  if (!shared && config().redis.urlSecret !== undefined) {
    throw new ConfigError('REDIS_URL_SECRET is set: the clients must come from readyClients(), which reads the URL first');
  }
  shared ??= createClients();
  return shared;
}

/**
 * REDIS_URL, or the URL held in REDIS_URL_SECRET, read once per process (a failed read is
 * tried again on the next call) and checked like REDIS_URL.
 */
export function redisUrl(cfg: Config, reader: SecretReader = readSecret): Promise<string> {
  const ref = cfg.redis.urlSecret;
  if (ref === undefined) return Promise.resolve(cfg.redis.url);
  return dependency('secrets', () => reader(ref, cfg)).then((text) => {
    const value = text.trim();
    let protocol = '';
    try {
      protocol = new URL(value).protocol;
    } catch {
      // reported below, without echoing the secret
    }
    if (protocol !== 'redis:' && protocol !== 'rediss:') throw new ConfigError(`REDIS_URL_SECRET ${ref} must hold a redis:// or rediss:// URL`);
    return value;
  });
}

let ready: Promise<Clients> | undefined;

/** The process-wide clients for a handler: on deployed stages the Redis URL may first come from a secret. */
export function readyClients(): Promise<Clients> {
  if (shared) return Promise.resolve(shared);
  ready ??= redisUrl(config()).then(
    (url) => (shared ??= createClients({ ...config(), redis: { ...config().redis, url } })),
    (e) => {
      ready = undefined;
      throw e;
    },
  );
  return ready;
}

export async function closeClients(c: Clients): Promise<void> {
  c.sqs.destroy();
  c.s3.destroy();
  c.redis.disconnect();
}

let lambda: LambdaClient | undefined;

/** Only the aws stage's worker status reads the Lambda API, so this client is made on first use. */
export function lambdaClient(cfg: Config): LambdaClient {
  lambda ??= new LambdaClient({
    ...awsClientOptions(cfg),
    ...(cfg.workers.lambdaEndpoint ? { endpoint: cfg.workers.lambdaEndpoint, credentials: cfg.aws.emulatorCredentials } : {}),
  });
  return lambda;
}
