/**
 * `npm start`: the whole system on one machine with no configuration.
 *   1. checks the ports it needs are free and takes the local data folder (LOCAL_DATA_DIR,
 *      .local/): writable, enough free space, and locked against a second npm start,
 *   2. Redis at REDIS_URL, or a private redis-server (append-only file in .local/redis/)
 *      when nothing answers there,
 *   3. the embedded AWS emulator (fauxqs, its bucket in .local/s3/) unless AWS_ENDPOINT_URL
 *      points elsewhere,
 *   4. queues, bucket and sample images, created idempotently; with the embedded emulator the
 *      queues start empty, so every unfinished task in Redis is sent again; `--fresh` (FRESH)
 *      first removes the local data and the Redis keys under REDIS_PREFIX,
 *   5. serverless-offline serving the API, then the workers in WORKERS,
 *   6. the stack's endpoints written to STACK_STATE_FILE for `npm run worker` to join,
 *   7. the job webhook sender, polling every 250 ms (a webhook signing secret is generated into
 *      WEBHOOK_SECRET_FILE when none is configured),
 * then prints where everything is, removes expired results (RESULT_TTL_DAYS) as the aws
 * stage's lifecycle rule would, and stops what it started on Ctrl-C / SIGTERM. A reaper
 * process (scripts/local/reaper.mjs) stops it all if this process is killed outright.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import { closeClients, createClients, type Clients } from '../lib/core/clients';
import { ConfigError, loadConfig, type Config } from '../lib/core/config';
import { IMAGE_PROCESS_ENV } from '../lib/core/process-env';
import { unsupportedNode } from '../lib/core/node-version';
import { readSecret } from '../lib/core/secrets';
import { enforceDeadlines } from '../lib/jobs/store';
import { expireObjects } from '../lib/images/retention';
import { PROCESSED_PREFIX } from '../lib/images/keys';
import { STAGING_PREFIX } from '../lib/images/uploads';
import { recoverAfterEmulatorLoss } from '../lib/tasks/recovery';
import { acquireLock, checkDataDir, clearRedisPrefix, DataDirError, dataDirPath, removeData } from './local/data-dir';
import { provision } from './local/resources';
import { resolveIdentity } from '../lib/worker/registry';
import { findBinary, probePort, startReaper, startService, stopService, waitFor, type Service } from './local/processes';
import { removeStackState, stackStatePath, writeStackState } from './local/stack-state';
import { bucketDataDir, startEmulator, superviseEmulator, type EmulatorHooks } from './local/emulator';
import { ensureWebhookSecret } from './local/webhook-secret';
import { startWebhookLoop } from '../lib/jobs/webhooks';

const ROOT = path.resolve(__dirname, '..');
const services: Service[] = [];
// Kills what this process started if it dies without stopping it (SIGKILL, OOM).
const reaper = startReaper();
let shuttingDown = false;
let stateFile: string | undefined;
let webhookSender: { stop: () => Promise<void>; deps: Clients } | undefined;
let releaseLock: (() => void) | undefined;
/** How often the local webhook sender looks for due deliveries. */
const WEBHOOK_POLL_MS = 250;
/** Longest shutdown waits for webhook attempts under way before cutting them off. */
const WEBHOOK_STOP_WAIT_MS = 2000;

function track(svc: Service): Service {
  reaper.watch(svc.child.pid);
  return svc;
}

class StartupError extends Error {}
/** Start-up failed for a reason the message names (busy port, no Redis, bad variable...). */
const EXIT_STARTUP_FAILED = 2;
/** How often npm start checks that the npm process that ran it is still there. */
const PARENT_CHECK_MS = 1000;

function say(msg: string) {
  process.stdout.write(`[start] ${msg}\n`);
}

async function ensurePortFree(host: string, port: number, variable: string, what: string) {
  try {
    await probePort(host, port);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new StartupError(
        `port ${port} on ${host} (${what}) is already in use. Is another \`npm start\` running? ` +
          `Stop it, or choose another port: ${variable}=<port> npm start`,
      );
    }
    throw new StartupError(`cannot listen on ${host}:${port} (${what}, ${variable}): ${code ?? (e as Error).message}`);
  }
}

async function redisAnswers(url: string): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

async function ensureRedis(cfg: Config, dataDir: string): Promise<string> {
  const url = cfg.redis.url;
  if (await redisAnswers(url)) return `${url} (already running; what it keeps on disk is that server's own persistence setting)`;
  const { hostname, port } = new URL(url);
  const local = ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(hostname);
  const binary = findBinary('redis-server');
  if (!cfg.redis.autostart || !local || !binary) {
    const why = !cfg.redis.autostart ? 'REDIS_AUTOSTART is off' : !local ? 'REDIS_URL is not a loopback address' : 'no redis-server binary on PATH';
    throw new StartupError(
      `nothing answers at REDIS_URL=${url} and no private Redis can be started (${why}).\n` +
        `  Get Redis: Debian/Ubuntu \`sudo apt-get install redis-server\`, macOS \`brew install redis\`,\n` +
        `  or Docker \`docker run -p 6379:6379 redis:7\`; or point REDIS_URL at one you have.`,
    );
  }
  const redisPort = port || '6379';
  const redisDir = path.join(dataDir, 'redis');
  mkdirSync(redisDir, { recursive: true });
  // Every write is logged to an append-only file flushed once a second: a kill -9 loses at
  // most that last second, and the tasks it touched run again (they are never dropped).
  const args = ['--port', redisPort, '--bind', hostname === 'localhost' ? '127.0.0.1' : hostname.replace(/[[\]]/g, ''), '--protected-mode', 'yes'];
  args.push('--dir', redisDir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '');
  const svc = track(startService('redis', binary, args));
  services.push(svc);
  await Promise.race([
    waitFor('private redis-server', 30_000, async () => ((await redisAnswers(url)) ? true : undefined)),
    svc.exited.then((c) => {
      throw new StartupError(`the private redis-server exited (${c}) before answering; see the [redis] lines above (its data is in ${redisDir})`);
    }),
  ]);
  return `${url} (private redis-server started by npm start; append-only file in ${redisDir}, flushed every second)`;
}

/** How the emulator's supervisor reports, and how its processes join what npm start stops. */
const emulatorHooks: EmulatorHooks = {
  say,
  started: (svc, replaced) => {
    track(svc);
    if (replaced) services[services.indexOf(replaced)] = svc;
    else services.push(svc);
  },
  stopping: () => shuttingDown,
  gaveUp: (reason) => void shutdown(1, reason),
};

async function ensureEmulator(cfg: Config): Promise<{ endpoint: string; description: string; service?: Service; host?: string }> {
  if (cfg.aws.endpoint) return { endpoint: cfg.aws.endpoint, description: `${cfg.aws.endpoint} (AWS_ENDPOINT_URL)` };
  const host = cfg.http.host === '0.0.0.0' ? '127.0.0.1' : cfg.http.host;
  const port = cfg.aws.emulatorPort;
  await ensurePortFree(host, port, 'EMULATOR_PORT', 'embedded AWS emulator');
  const service = await startEmulator(cfg, host, emulatorHooks);
  const endpoint = `http://${host}:${port}`;
  return { endpoint, description: `${endpoint} (embedded fauxqs: queues in memory, rebuilt from Redis on start; bucket in ${bucketDataDir(cfg)})`, service, host };
}

function startApi(cfg: Config, env: NodeJS.ProcessEnv): Service {
  const sls = path.join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js');
  return track(startService(
    'api',
    process.execPath,
    [sls, 'offline', 'start', '--stage', 'local', '--useInProcess', '--host', cfg.http.host, '--httpPort', String(cfg.http.port), '--lambdaPort', String(cfg.http.lambdaPort)],
    { cwd: ROOT, env: { ...env, SLS_LOG_LEVEL: cfg.local.serverlessLogLevel } },
  ));
}

function parseWorkerList(raw: string): string[] {
  if (raw.trim() === 'none' || raw.trim() === '') return [];
  const ids = raw.split(',').map((w) => w.trim()).filter(Boolean);
  for (const id of ids) {
    try {
      resolveIdentity(id, undefined);
    } catch (e) {
      throw new StartupError(`WORKERS: ${(e as Error).message}`);
    }
  }
  return [...new Set(ids)];
}

/** How often npm start times out jobs past their deadline (with no worker running, nothing else would). */
const HOUSEKEEPING_MS = 1000;

const DAY_MS = 86_400_000;

function startHousekeeping(cfg: Config): void {
  const deps = createClients(cfg);
  let busy = false;
  setInterval(() => {
    if (busy) return;
    busy = true;
    void enforceDeadlines(deps)
      .catch(() => undefined)
      .finally(() => (busy = false));
  }, HOUSEKEEPING_MS).unref();
  // The emulator has no lifecycle rules: expire results and staged uploads as the aws stage's bucket does.
  const expire = async () => {
    const now = Date.now();
    const results = await expireObjects(deps, PROCESSED_PREFIX, new Date(now - cfg.local.resultTtlDays * DAY_MS));
    const uploads = await expireObjects(deps, STAGING_PREFIX, new Date(now - (cfg.local.uploadTtlHours * DAY_MS) / 24));
    if (results + uploads > 0) say(`retention: removed ${results} result(s) older than RESULT_TTL_DAYS=${cfg.local.resultTtlDays} and ${uploads} staged upload(s) older than UPLOAD_TTL_HOURS=${cfg.local.uploadTtlHours}`);
  };
  let expiring = false;
  const sweep = () => {
    if (expiring) return;
    expiring = true;
    void expire()
      .catch((e) => say(`retention sweep failed: ${(e as Error).message}`))
      .finally(() => (expiring = false));
  };
  sweep();
  setInterval(sweep, cfg.local.retentionSweepS * 1000).unref();
}

/** `npm start -- --fresh`; any other argument is a mistake worth saying so. */
function parseArgs(argv: string[]): { fresh: boolean } {
  const unknown = argv.filter((a) => a !== '--fresh');
  if (unknown.length) throw new StartupError(`unknown argument ${JSON.stringify(unknown[0])}; npm start takes only --fresh (start empty: npm start -- --fresh)`);
  return { fresh: argv.includes('--fresh') };
}

async function shutdown(code: number, reason: string) {
  if (shuttingDown) return;
  shuttingDown = true;
  say(`${reason}; stopping ${[...(webhookSender ? ['webhook sender'] : []), ...services.map((s) => s.name).reverse()].join(', ') || 'nothing'}...`);
  if (webhookSender) {
    const { stop, deps } = webhookSender;
    await Promise.race([stop(), new Promise((r) => setTimeout(r, WEBHOOK_STOP_WAIT_MS))]);
    await closeClients(deps);
  }
  for (const s of [...services].reverse()) await stopService(s);
  if (stateFile) removeStackState(stateFile);
  releaseLock?.();
  reaper.release();
  say('stopped');
  process.exit(code);
}

/** Longest a secret reference may take to read at start before it counts as unreadable. */
const SECRET_READ_TIMEOUT_MS = 15_000;

/** An SDK error's name (ParameterNotFound, AccessDeniedException) with its message, when it has one of its own. */
function secretErrorReason(e: unknown): string {
  const { name, message } = e instanceof Error ? e : { name: '', message: String(e) };
  const text = (message ?? '').split('\n')[0];
  if (!name || name === 'Error') return text;
  return !text || text === 'UnknownError' || text === name ? name : `${name}: ${text}`;
}

/**
 * A secret reference that cannot be read would make every request answer 500: refuse to start
 * instead, naming the variable.
 */
async function checkSecrets(cfg: Config): Promise<void> {
  const refs: [string, string | undefined][] = [
    ['API_KEYS_SECRET', cfg.auth.secretRef],
    ['REDIS_URL_SECRET', cfg.redis.urlSecret],
    ['WEBHOOK_SECRET_REF', cfg.webhooks.secretRef],
  ];
  for (const [variable, ref] of refs) {
    if (ref === undefined) continue;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${SECRET_READ_TIMEOUT_MS / 1000} s`)), SECRET_READ_TIMEOUT_MS);
    });
    try {
      const value = await Promise.race([readSecret(ref, cfg), timeout]);
      if (!value.trim()) throw new Error('it is empty');
    } catch (e) {
      const reason = secretErrorReason(e);
      throw new StartupError(`${variable}=${ref} cannot be read (${reason}); fix the reference or its credentials, or unset ${variable}`);
    } finally {
      clearTimeout(timer);
    }
  }
}

async function main() {
  let cfg: Config;
  try {
    cfg = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) throw new StartupError(`configuration error: ${e.message}`);
    throw e;
  }
  const oldNode = unsupportedNode();
  if (oldNode) throw new StartupError(oldNode);
  const fresh = parseArgs(process.argv.slice(2)).fresh || cfg.local.fresh;
  await checkSecrets(cfg);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void shutdown(0, `received ${signal}`));
  // `npm start` is npm running this script: if npm itself is killed, this process is
  // re-parented and would keep the whole stack running with nobody attached to it.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void shutdown(1, `its parent process (${parent}) is gone`);
  }, PARENT_CHECK_MS).unref();

  await ensurePortFree(cfg.http.host, cfg.http.port, 'PORT', 'HTTP API');
  await ensurePortFree(cfg.http.host, cfg.http.lambdaPort, 'LAMBDA_PORT', "serverless-offline's Lambda invoke endpoint");

  // Webhooks are signed with WEBHOOK_SECRET (or WEBHOOK_SECRET_REF's value); without either,
  // with one generated once and kept in a file only this user can read.
  let webhookSecret: string | undefined;
  let webhookSecretNote = cfg.webhooks.secretRef ? `WEBHOOK_SECRET_REF=${cfg.webhooks.secretRef}` : 'WEBHOOK_SECRET';
  if (cfg.webhooks.secret === undefined && cfg.webhooks.secretRef === undefined) {
    try {
      const local = ensureWebhookSecret(cfg.local.webhookSecretFile);
      webhookSecret = local.secret;
      webhookSecretNote = `${local.path} (${local.created ? 'generated now' : 'kept from an earlier start'}, mode 0600; WEBHOOK_SECRET overrides it)`;
    } catch (e) {
      throw new StartupError(`WEBHOOK_SECRET_FILE: ${(e as Error).message}`);
    }
  }

  const dataDir = dataDirPath(cfg.local.dataDir);
  try {
    checkDataDir(dataDir, cfg.local.diskReserveMb);
    releaseLock = acquireLock(dataDir);
  } catch (e) {
    if (e instanceof DataDirError) throw new StartupError(e.message);
    throw new StartupError(`cannot lock the local data folder ${dataDir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (fresh) {
    const removed = removeData(dataDir);
    say(`starting empty (--fresh): ${removed.length ? `removed ${removed.join(', ')}` : `nothing was kept in ${dataDir}`}`);
  }

  const redis = await ensureRedis(cfg, dataDir);
  const emulator = await ensureEmulator(cfg);

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
    AWS_ENDPOINT_URL: emulator.endpoint,
    AWS_REGION: cfg.aws.region,
    REDIS_URL: cfg.redis.url,
    ...(webhookSecret ? { WEBHOOK_SECRET: webhookSecret } : {}),
    ...IMAGE_PROCESS_ENV,
  };
  const stackCfg = loadConfig(env);
  const deps = createClients(stackCfg);
  const t0 = Date.now();
  const resources = await provision(deps).catch((e) => {
    throw new StartupError(`could not create queues/bucket at ${emulator.endpoint}: ${(e as Error).message}`);
  });
  if (fresh) {
    const cleared = await clearRedisPrefix(deps.redis, cfg.redis.prefix);
    say(`redis: cleared ${cleared} key(s) under "${cfg.redis.prefix}:" (--fresh)`);
  } else if (emulator.service) {
    // The emulator's queues start empty each time; Redis knows which tasks were not finished.
    const { resent, recomputed, deadLetters } = await recoverAfterEmulatorLoss(deps, cfg.local.resultTtlDays * DAY_MS);
    if (resent + recomputed + deadLetters > 0) {
      say(`restored from Redis: ${resent} unfinished task(s) queued again, ${recomputed} missing result(s) being recomputed, ${deadLetters} dead letter(s) back in the dead-letter queue`);
    }
  }
  await closeClients(deps);
  say(`resources ready in ${Date.now() - t0} ms (uploaded: ${resources.uploaded.join(', ') || 'none'}; unchanged: ${resources.unchanged.join(', ') || 'none'})`);
  env.QUEUE_URL = resources.queueUrl;
  env.DLQ_URL = resources.dlqUrl;

  const api = startApi(cfg, env);
  services.push(api);
  const url = cfg.http.publicUrl;
  await Promise.race([
    waitFor('API', 60_000, async () => ((await fetch(`${url}/api/health/`)).status > 0 ? true : undefined), 250),
    api.exited.then((c) => {
      throw new StartupError(`serverless-offline exited (${c}) before serving; see the [api] lines above`);
    }),
  ]);

  for (const s of services) {
    if (s === emulator.service) continue;
    void s.exited.then((c) => {
      if (!s.stopping && !shuttingDown) void shutdown(1, `${s.name} exited unexpectedly (${c})`);
    });
  }
  if (emulator.service) {
    superviseEmulator(cfg, stackCfg, emulator.service, emulator.host!, emulatorHooks).catch((e) => void shutdown(EXIT_STARTUP_FAILED, `emulator supervision failed: ${(e as Error).message}`));
  }

  // The webhook sender polls from this process: it never blocks a worker, and it stops with the stack.
  const senderDeps = createClients(loadConfig(env));
  webhookSender = { ...startWebhookLoop(senderDeps, { intervalMs: WEBHOOK_POLL_MS }), deps: senderDeps };

  // Workers are separate processes (tsx as a loader, not its CLI, so the pid is the worker's own
  // and SIGKILL reaches it). Stopping or killing one is part of the seed's scenarios, so their
  // exit is reported but never takes the stack down.
  const workerIds = parseWorkerList(cfg.workers.start);
  for (const id of workerIds) {
    const w = track(startService(id, process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'worker.ts'), id], { cwd: ROOT, env }));
    services.push(w);
    void w.exited.then((c) => {
      if (!shuttingDown) say(`${id} exited (${c}); the rest keeps running. Start it again with: npm run worker -- ${id}`);
    });
  }

  say(
    [
      'the image pipeline is up',
      `  API        ${url}/api/health/   (also /api/image/info/, /api/image/4k/, /api/image/slow/?delay=3.0, /api/stats/)`,
      `  emulator   ${emulator.description}`,
      `  redis      ${redis}  (keys under "${cfg.redis.prefix}:")`,
      `  queue      ${resources.queueUrl}  (dead letters: ${resources.dlqUrl})`,
      `  bucket     s3://${resources.bucket}/source/  (${resources.uploaded.length + resources.unchanged.length} sample images)`,
      `  workers    ${workerIds.length ? workerIds.join(', ') : 'none (WORKERS=none)'}; more: npm run worker -- worker-3`,
      `  dispatch   ${cfg.dispatch.mode}${cfg.dispatch.mode === 'fifo' ? ' (the seed: any worker takes any task; DISPATCH_MODE=capability routes by worker class)' : ' (one queue per worker class; no task reaches a worker that cannot run it)'}`,
      `  dashboard  ${url}/dashboard/   metrics ${url}/api/metrics`,
      `  webhooks   sender polling every ${WEBHOOK_POLL_MS} ms; signing secret: ${webhookSecretNote}`,
      '  Ctrl-C stops everything started here.',
    ].join('\n'),
  );
  stateFile = cfg.local.stackStateFile;
  writeStackState(stateFile, {
    pid: process.pid,
    started_at: new Date().toISOString(),
    api_url: url,
    env: {
      AWS_ENDPOINT_URL: emulator.endpoint,
      AWS_REGION: cfg.aws.region,
      QUEUE_NAME: cfg.aws.queueName,
      DLQ_NAME: cfg.aws.dlqName,
      BUCKET_NAME: cfg.aws.bucket,
      REDIS_URL: cfg.redis.url,
      REDIS_PREFIX: cfg.redis.prefix,
      DISPATCH_MODE: cfg.dispatch.mode,
    },
  });
  startHousekeeping(stackCfg);
  say(`stack state  ${stackStatePath(stateFile)}  (npm run worker -- <id> in another shell joins this stack)`);
  // Machine-readable line the test harness waits for.
  say(`ready ${url}`);
}

main().catch((e) => {
  // One line with the cause and the fix, never a stack trace.
  const msg = e instanceof StartupError ? e.message : (e as Error).message ?? String(e);
  process.stderr.write(`[start] cannot start: ${msg}\n`);
  void shutdown(EXIT_STARTUP_FAILED, 'startup failed');
});
