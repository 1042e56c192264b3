/**
 * The one place that reads environment variables. Every variable is parsed and
 * validated once; a bad value stops the process with a message naming it.
 * Empty strings count as unset, because serverless.yml forwards unset variables as ''.
 */
export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function read(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** A setting that replaces another: both set would leave which one wins to guesswork. */
function exclusiveWith(env: Env, name: string, other: string): string | undefined {
  const v = read(env, name);
  if (v !== undefined && read(env, other) !== undefined) throw new ConfigError(`set ${name} or ${other}, not both`);
  return v;
}

function str(env: Env, name: string, def: string): string {
  return read(env, name) ?? def;
}

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** A decimal number in (0, max]: durations given in days or hours, where a test wants seconds. */
function positive(env: Env, name: string, def: number, max: number): number {
  const raw = read(env, name);
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!/^\d*\.?\d+$/.test(raw.trim()) || !(n > 0) || n > max) {
    throw new ConfigError(`${name} must be a number greater than 0 and at most ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function bool(env: Env, name: string, def: boolean): boolean {
  const raw = read(env, name);
  if (raw === undefined) return def;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  throw new ConfigError(`${name} must be true/false (or 1/0), got ${JSON.stringify(raw)}`);
}

function url(env: Env, name: string, def: string | undefined, protocols: string[]): string | undefined {
  const raw = read(env, name) ?? def;
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be a URL (${protocols.join(' or ')}), got ${JSON.stringify(raw)}`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(`${name} must use ${protocols.join(' or ')}, got ${JSON.stringify(raw)}`);
  }
  return raw.replace(/\/+$/, '');
}

function name(env: Env, varName: string, def: string, pattern: RegExp, rule: string): string {
  const v = str(env, varName, def);
  if (!pattern.test(v)) throw new ConfigError(`${varName} ${rule}, got ${JSON.stringify(v)}`);
  return v;
}

const FIFO_NAME = /^[A-Za-z0-9_-]{1,75}\.fifo$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** API_KEYS: comma-separated bearer keys; blanks between commas are ignored. */
function keyList(env: Env, varName: string): string[] {
  const keys = (read(env, varName) ?? '').split(',').map((k) => k.trim()).filter((k) => k !== '');
  for (const k of keys) {
    if (!/^[\x21-\x7e]{1,256}$/.test(k)) throw new ConfigError(`${varName} keys must be 1-256 printable ASCII characters without spaces or commas`);
  }
  return keys;
}

function workerFunctions(env: Env, varName: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (read(env, varName) ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,63})=([A-Za-z0-9_:.-]{1,170})$/.exec(pair);
    if (!m) throw new ConfigError(`${varName} must be a comma list of worker-id=lambda-function-name, got ${JSON.stringify(pair)}`);
    out[m[1]] = m[2];
  }
  return out;
}

/**
 * WEBHOOK_RETRY_SCHEDULE: seconds to wait before each retry of a failed webhook delivery, in
 * order ("1,5,30" = three retries after 1, 5 and 30 s; 4 attempts in all); "none" = no retries.
 */
function secondsList(env: Env, varName: string, def: string, maxItems: number, maxS: number): number[] {
  const raw = str(env, varName, def);
  if (raw === 'none') return [];
  const items = raw.split(',').map((s) => s.trim());
  const rule = `must be "none" or a comma list of 1 to ${maxItems} delays in seconds, each from 0 to ${maxS} (e.g. "${def}")`;
  if (items.length > maxItems || items.some((s) => !/^(\d+(\.\d+)?|\.\d+)$/.test(s) || Number(s) > maxS)) {
    throw new ConfigError(`${varName} ${rule}, got ${JSON.stringify(raw)}`);
  }
  return items.map(Number);
}

/**
 * A plain-text signing secret: long enough that guessing it is not an option, and never on the
 * aws stage, whose template would then carry it (that stage names a reference instead).
 */
function secret(env: Env, stage: string, varName: string, other: string): string | undefined {
  const v = exclusiveWith(env, varName, other);
  if (v !== undefined && stage === 'aws') throw new ConfigError(`${varName} is plain text: on the aws stage set ${other} (an SSM parameter or Secrets Manager secret) instead`);
  if (v !== undefined && !/^[\x21-\x7e]{16,512}$/.test(v)) {
    throw new ConfigError(`${varName} must be 16-512 printable ASCII characters without spaces (got ${v.length} characters)`);
  }
  return v;
}

export function loadConfig(env: Env = process.env) {
  const host = str(env, 'HOST', '127.0.0.1');
  const port = int(env, 'PORT', 8000, 1, 65535);
  const stage = str(env, 'STAGE', 'local');
  return {
    stage,
    version: str(env, 'APP_VERSION', '0.1.0'),
    logLevel: name(env, 'LOG_LEVEL', 'info', /^(debug|info|warn|error|silent)$/, 'must be debug, info, warn, error or silent'),
    http: {
      host,
      port,
      /** serverless-offline's internal Lambda-invoke port; must differ between stacks on one machine. */
      lambdaPort: int(env, 'LAMBDA_PORT', 3002, 1, 65535),
      publicUrl: url(env, 'PUBLIC_URL', `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`, ['http:', 'https:'])!,
    },
    aws: {
      region: name(env, 'AWS_REGION', 'us-east-1', /^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as us-east-1'),
      /** Unset = real AWS. `npm start` points it at the embedded emulator unless you set it. */
      endpoint: url(env, 'AWS_ENDPOINT_URL', undefined, ['http:', 'https:']),
      emulatorPort: int(env, 'EMULATOR_PORT', 4566, 1, 65535),
      /** `npm start` restarts a crashed embedded emulator after this pause (0 = never). */
      emulatorRestartDelayMs: int(env, 'EMULATOR_RESTART_DELAY_MS', 1000, 0, 600_000),
      queueName: name(env, 'QUEUE_NAME', 'image-tasks.fifo', FIFO_NAME, 'must be 1-75 letters, digits, - or _ followed by .fifo'),
      dlqName: name(env, 'DLQ_NAME', 'image-tasks-dlq.fifo', FIFO_NAME, 'must be 1-75 letters, digits, - or _ followed by .fifo'),
      /** Set by CloudFormation on AWS; resolved with GetQueueUrl when unset. */
      queueUrl: url(env, 'QUEUE_URL', undefined, ['http:', 'https:']),
      dlqUrl: url(env, 'DLQ_URL', undefined, ['http:', 'https:']),
      bucket: name(env, 'BUCKET_NAME', 'image-pipeline-local', BUCKET, 'must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)'),
      visibilityTimeoutS: int(env, 'VISIBILITY_TIMEOUT_S', 60, 1, 43200),
      maxReceiveCount: int(env, 'MAX_RECEIVE_COUNT', 3, 1, 1000),
      presignTtlS: int(env, 'PRESIGN_TTL_S', 3600, 1, 604800),
      /**
       * Used only with an emulator endpoint (fauxqs and LocalStack accept any keys; LocalStack's
       * `test` maps to account 000000000000). serverless.yml never forwards credentials.
       */
      emulatorCredentials: {
        accessKeyId: read(env, 'AWS_ACCESS_KEY_ID') ?? 'test',
        secretAccessKey: read(env, 'AWS_SECRET_ACCESS_KEY') ?? 'test',
      },
    },
    redis: {
      url: url(env, 'REDIS_URL', 'redis://127.0.0.1:6379', ['redis:', 'rediss:'])!,
      /**
       * Deployed stages: an SSM SecureString parameter or Secrets Manager secret holding the
       * URL (same forms as API_KEYS_SECRET), so a password in it never reaches the function's
       * configuration or the template. Read at cold start by readyClients().
       */
      urlSecret: exclusiveWith(env, 'REDIS_URL_SECRET', 'REDIS_URL'),
      /** Every key this deployment writes starts with `${prefix}:`, so runs can share one Redis. */
      prefix: name(env, 'REDIS_PREFIX', 'ip', /^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, _ . or -'),
      /** `npm start` only: start a private redis-server when nothing answers at REDIS_URL. */
      autostart: bool(env, 'REDIS_AUTOSTART', true),
    },
    processing: {
      /** In-flight images for the "threading" strategy (one event loop, libuv threadpool underneath). */
      concurrency: int(env, 'BATCH_CONCURRENCY', 4, 1, 64),
      /** Worker threads of the "multiprocessing" pool; 0 = one per core. */
      poolThreads: int(env, 'POOL_THREADS', 0, 0, 64),
      /** Read for reporting only: libuv reads it itself at process start. */
      threadpoolSize: int(env, 'UV_THREADPOOL_SIZE', 4, 1, 1024),
      maxInputPixels: int(env, 'MAX_INPUT_PIXELS', 50_000_000, 1, 268_402_689),
      maxInputBytes: int(env, 'MAX_INPUT_BYTES', 25 * 1024 * 1024, 1, 512 * 1024 * 1024),
      jpegQuality: int(env, 'JPEG_QUALITY', 90, 1, 100),
      /**
       * Off, as cv2.imencode and Pillow encode by default (the seed): optimised Huffman tables
       * make files ~2% smaller and cost ~3x the encode time (24 vs 78 ms for a 4K RGB image).
       */
      jpegOptimizeCoding: bool(env, 'JPEG_OPTIMIZE_CODING', false),
      maxBatchImages: int(env, 'MAX_BATCH_IMAGES', 32, 1, 1000),
      maxStressIterations: int(env, 'MAX_STRESS_ITERATIONS', 50, 1, 1000),
      /**
       * Pixels of batch work (images x width x height, from headers) one API process runs at
       * once; beyond it a request waits BATCH_ADMISSION_WAIT_MS, then gets 503 + Retry-After.
       * The default's sizing: docs/configuration.md, "Memory admission".
       */
      batchPixelBudget: int(env, 'BATCH_PIXEL_BUDGET', 32 * 8_294_400, 1, 2 ** 40),
      batchAdmissionWaitMs: int(env, 'BATCH_ADMISSION_WAIT_MS', 2000, 0, 25_000),
      /**
       * Which OpenCV.js runs the OpenCV filters: simd (vendor/opencv-simd, OpenCV 4.6 with WASM
       * SIMD, 3-4x faster at 4K, identical output) or techstark (@techstark/opencv-js 4.12, scalar).
       */
      opencvBuild: name(env, 'OPENCV_BUILD', 'simd', /^(simd|techstark)$/, 'must be simd or techstark') as 'simd' | 'techstark',
      /**
       * Who decodes and encodes the JPEGs of chains that start or end in OpenCV: libjpeg-turbo
       * straight to and from the WASM heap (faster; fast-DCT pixels, lib/filters/jpeg-turbo.ts)
       * or sharp (the accurate DCT; cv2's pixels exactly).
       */
      jpegCodec: name(env, 'JPEG_CODEC', 'libjpeg-turbo', /^(libjpeg-turbo|sharp)$/, 'must be libjpeg-turbo or sharp') as 'libjpeg-turbo' | 'sharp',
    },
    dispatch: {
      /**
       * fifo (the seed): one queue, any worker takes any task and fails what it cannot do.
       * capability: one queue per worker class; a task only reaches workers that can run it.
       */
      mode: name(env, 'DISPATCH_MODE', 'fifo', /^(fifo|capability)$/, 'must be fifo or capability') as 'fifo' | 'capability',
    },
    /** How long a task record (status, timings, result key) is kept in Redis after it is queued. */
    taskTtlS: int(env, 'TASK_TTL_S', 7 * 24 * 3600, 60, 365 * 24 * 3600),
    /** How long a worker's record (counts, last heartbeat) outlives its last heartbeat or registration. */
    workerRecordTtlS: int(env, 'WORKER_RECORD_TTL_S', 7 * 24 * 3600, 60, 365 * 24 * 3600),
    /** How long an Idempotency-Key is remembered for POST /api/process-batch/distributed/. */
    idempotencyTtlS: int(env, 'IDEMPOTENCY_TTL_S', 24 * 3600, 60, 30 * 24 * 3600),
    workers: {
      /** Seconds between worker heartbeats; a worker silent for 3 intervals is offline. */
      heartbeatIntervalS: int(env, 'HEARTBEAT_INTERVAL_S', 3, 1, 300),
      /**
       * Seconds between dead-letter sweeps (lib/tasks/sweeper.ts): how soon a task whose
       * message was dead-lettered without being recorded (Redis down) reads failed.
       */
      sweepIntervalS: int(env, 'SWEEP_INTERVAL_S', 5, 1, 3600),
      /**
       * Local worker runner: take the next message and start reading its image while the
       * current image is processed (one message ahead at most). Off: the next message is
       * taken once the current image is done, so none waits in a busy worker.
       */
      prefetch: bool(env, 'WORKER_PREFETCH', true),
      /**
       * MiB of recently read source images a worker keeps (lib/images/source-cache.ts); a task
       * on a kept image asks S3 only whether it changed. 0 turns it off.
       */
      sourceCacheMb: int(env, 'WORKER_SOURCE_CACHE_MB', 64, 0, 4096),
      /** Long-poll wait of the local worker runner (SQS allows 0..20). */
      pollWaitS: int(env, 'POLL_WAIT_S', 2, 0, 20),
      /** Local `npm start` only: which workers to run ("none" for none). */
      start: str(env, 'WORKERS', 'worker-1,worker-2,worker-3'),
      /** This worker's identity (worker processes and worker functions). */
      id: read(env, 'WORKER_ID'),
      /** Comma-separated filter names or "all"; empty = the built-in set for WORKER_ID. */
      capabilities: read(env, 'WORKER_CAPABILITIES'),
      /**
       * How the API decides a worker is alive. heartbeat: local processes beat into Redis.
       * event-source-mapping (aws default): a worker function is alive while its SQS mapping is
       * enabled, because Lambda workers only run (and beat) when a message arrives.
       */
      liveness: name(env, 'WORKER_LIVENESS', stage === 'aws' ? 'event-source-mapping' : 'heartbeat', /^(heartbeat|event-source-mapping)$/, 'must be heartbeat or event-source-mapping') as
        | 'heartbeat'
        | 'event-source-mapping',
      /** event-source-mapping only: "worker-1=fn-name,worker-2=fn-name" (serverless.yml sets it on aws). */
      functions: workerFunctions(env, 'WORKER_FUNCTIONS'),
      /** Lambda API endpoint override (tests); unset = AWS. */
      lambdaEndpoint: url(env, 'LAMBDA_ENDPOINT_URL', undefined, ['http:', 'https:']),
    },
    auth: {
      /** Bearer keys given directly (local stages). Empty and no secret = the API is open. */
      keys: keyList(env, 'API_KEYS'),
      /**
       * AWS: where the keys live, read at cold start and cached: an SSM SecureString parameter
       * name (/path or arn:aws:ssm:...) or a Secrets Manager secret (arn:aws:secretsmanager:... or
       * secretsmanager:<name>). Holding comma-separated keys, like API_KEYS.
       */
      secretRef: read(env, 'API_KEYS_SECRET'),
      /** How long keys read from the secret are kept before being read again (rotation). */
      secretTtlS: int(env, 'API_KEYS_SECRET_TTL_S', 300, 0, 86400),
      /** Requests per key (or per client IP when the API is open) per minute; 0 = off. */
      rateLimitPerMinute: int(env, 'RATE_LIMIT_PER_MINUTE', stage === 'aws' ? 120 : 0, 0, 1_000_000),
    },
    webhooks: {
      /**
       * The key job webhooks are signed with (X-Pipeline-Signature, lib/jobs/webhook-signature.ts),
       * in plain text: local stages. `npm start` generates one into WEBHOOK_SECRET_FILE when
       * neither this nor WEBHOOK_SECRET_REF is set.
       */
      secret: secret(env, stage, 'WEBHOOK_SECRET', 'WEBHOOK_SECRET_REF'),
      /**
       * Deployed stages: the SSM SecureString parameter or Secrets Manager secret holding the
       * key (same forms as API_KEYS_SECRET), read by the webhook sender only.
       */
      secretRef: read(env, 'WEBHOOK_SECRET_REF'),
      /** Delays before each retry of a failed delivery; attempts per event = 1 + its length. */
      retryScheduleS: secondsList(env, 'WEBHOOK_RETRY_SCHEDULE', '1,5,30,120,600', 20, 86_400),
      /** One delivery attempt (DNS, connect, request, response) must finish within this. */
      timeoutMs: int(env, 'WEBHOOK_TIMEOUT_MS', 5000, 100, 30_000),
      /**
       * Whether a notify_url may point at loopback, private (RFC 1918, CGNAT, IPv6 unique-local)
       * and link-local addresses. On by default locally (receivers on this machine), off on the
       * aws stage, where those addresses are the VPC and the instance metadata service.
       */
      allowPrivate: bool(env, 'WEBHOOK_ALLOW_PRIVATE', stage !== 'aws'),
      /**
       * The aws stage's sender function (serverless.yml sets it): POST .../redeliver/ invokes it
       * at once instead of waiting for its next scheduled run.
       */
      senderFunction: read(env, 'WEBHOOK_SENDER_FUNCTION'),
    },
    local: {
      /**
       * `npm start` writes the endpoints it chose here, so `npm run worker` (and other CLI
       * commands) in a clean shell join the running stack instead of defaulting to real AWS.
       */
      stackStateFile: str(env, 'STACK_STATE_FILE', '.local/stack.json'),
      /**
       * `npm start` only: the folder of the local stack's state (the embedded emulator's bucket,
       * the private Redis's append-only file, the lock against a second start). Relative paths
       * are from the project folder.
       */
      dataDir: str(env, 'LOCAL_DATA_DIR', '.local'),
      /** `npm start` starts empty: the local data, and Redis keys under REDIS_PREFIX, are removed first. */
      fresh: bool(env, 'FRESH', false),
      /**
       * Free space (MB) the local data folder's disk must keep: npm start refuses below it, and
       * the embedded emulator answers a write that would go below it with 503.
       */
      diskReserveMb: int(env, 'LOCAL_DISK_RESERVE_MB', 100, 0, 1_000_000),
      /** Results under processed/ older than this are removed locally, as the aws stage's lifecycle rule does. */
      resultTtlDays: positive(env, 'RESULT_TTL_DAYS', 7, 3650),
      /** Staged large uploads (uploads/) older than this are removed locally, as on the aws stage. */
      uploadTtlHours: positive(env, 'UPLOAD_TTL_HOURS', 24, 24 * 3650),
      /** How often npm start looks for expired results and uploads. */
      retentionSweepS: int(env, 'RETENTION_SWEEP_S', 3600, 1, 86_400),
      /** `npm start` only: where the webhook signing secret it generates is kept (mode 0600). */
      webhookSecretFile: str(env, 'WEBHOOK_SECRET_FILE', '.local/webhook-secret'),
      /**
       * serverless-offline's own log level under `npm start`. Its notices are four lines per
       * request (two blank, the route, the Lambda duration) beside the API's own request line,
       * each a write to the pipe npm start reads, and npm start echoes each again. `notice`
       * shows them again (its route table at start-up shows at any level).
       */
      serverlessLogLevel: name(env, 'SLS_LOG_LEVEL', 'warning', /^(error|warning|notice|info|debug)$/, 'must be error, warning, notice, info or debug'),
    },
    limits: {
      maxSlowDelayS: int(env, 'MAX_SLOW_DELAY_S', 25, 0, 28),
      dependencyTimeoutMs: int(env, 'DEPENDENCY_TIMEOUT_MS', 2000, 100, 30000),
    },
  };
}

export type Config = ReturnType<typeof loadConfig>;

let cached: Config | undefined;

/** The process's configuration, read on first use. */
export function config(): Config {
  cached ??= loadConfig();
  return cached;
}
