/**
 * Job webhooks: every event in a job's log (lib/jobs/events.ts) is POSTed to the job's
 * notify_url, in seq order, signed (lib/jobs/webhook-signature.ts). The sender runs beside the
 * workers, never inside them: appending an event only puts the job in the due set, and a sender
 * (a loop in `npm start`, a scheduled function on AWS) takes due jobs from there.
 *
 * Per job, in Redis:
 *   - a lock (job:<id>:webhook-lock), so one sender at a time works on a job, across processes;
 *   - in the job hash, webhook_seq (the last seq the sender is done with: delivered, or failed
 *     after its last attempt), webhook_attempts (attempts made on the next one),
 *     webhook_retry_at (ms; when the next attempt is due) and webhook_down (1 from an event
 *     failed after its last attempt until a delivery succeeds);
 *   - the deliveries list (every attempt, newest last), the failed set (seqs whose delivery
 *     failed, scored by attempts made) and the redelivery queue (seqs POST .../redeliver/ asked for).
 * A failed attempt is retried on WEBHOOK_RETRY_SCHEDULE; the next events wait behind it, so a
 * receiver sees a job's events in order. After the last attempt the event is marked failed
 * and the sender moves on; while the receiver is down like that, each later event gets one
 * attempt (no retries), so a dead receiver does not hold a long job's events back for the whole
 * schedule each. The first delivery that succeeds brings the retries back. Delivery is at least once: X-Pipeline-Delivery names the event
 * delivery, the same on every attempt and redelivery, for receivers to drop duplicates.
 */
import { randomUUID } from 'node:crypto';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { lambdaClient, type Clients } from '../core/clients';
import { ConfigError, type Config } from '../core/config';
import { dependency } from '../core/dependencies';
import { AppError, NotFoundError, UnprocessableError, ValidationError } from '../core/errors';
import { errorFields, log } from '../core/log';
import { readSecret, type SecretReader } from '../core/secrets';
import { sleep } from '../core/time';
import { jobDeliveriesKey, jobEventsKey, jobKey, webhookDueKey, type JobEvent } from './events';
import { assertPublicAddress, validateNotifyUrl, type ResolvedAddress } from './notify-url';
import { signWebhook } from './webhook-signature';

export const EVENT_HEADER = 'X-Pipeline-Event';
export const DELIVERY_HEADER = 'X-Pipeline-Delivery';
export const ATTEMPT_HEADER = 'X-Pipeline-Attempt';

export type DeliveryOutcome = 'delivered' | 'retrying' | 'failed';

/** One attempt to deliver one event, as GET /api/jobs/{job_id}/deliveries/ lists it. */
export interface DeliveryAttempt {
  /** X-Pipeline-Delivery: `<job_id>:<seq>`, the same on every attempt and redelivery of the event. */
  delivery_id: string;
  seq: number;
  type: string;
  /** 1 for the first attempt; redeliveries go on counting. */
  attempt: number;
  /** When the attempt started (ISO 8601). */
  at: string;
  /** The receiver's HTTP status; null when none came (timeout, network error, refused address). */
  status_code: number | null;
  ms: number;
  error: string | null;
  outcome: DeliveryOutcome;
  /** retrying only: when the next attempt is due. */
  next_attempt_at?: string;
  /** Made by POST .../deliveries/redeliver/. */
  redelivery?: boolean;
}

const lockKey = (deps: Clients, jobId: string) => deps.key('job', jobId, 'webhook-lock');
const failedKey = (deps: Clients, jobId: string) => deps.key('job', jobId, 'webhook-failed');
const redeliverKey = (deps: Clients, jobId: string) => deps.key('job', jobId, 'webhook-redeliver');
/** Set by a running scheduled sender; a redelivery request wakes one only when none runs. */
const senderAliveKey = (deps: Clients) => deps.key('webhooks', 'sender-alive');

export const deliveryId = (jobId: string, seq: number) => `${jobId}:${seq}`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A job id from a path: a lower-case UUID, or a 400 naming job_id. */
export function parseJobId(raw: string | undefined): string {
  if (raw === undefined || !UUID.test(raw)) {
    throw new ValidationError(`job_id must be a lower-case UUID (8-4-4-4-12 hex digits); got ${JSON.stringify((raw ?? '').slice(0, 60))}`, { field: 'job_id' });
  }
  return raw;
}

// ---------------------------------------------------------------------------------------------
// The signing secret

const SECRET_TTL_MS = 300_000;
let secretCache: { ref: string; value: Promise<string>; at: number } | undefined;

/** Whether this deployment can sign webhooks: a submission with a notify_url is refused otherwise. */
export function webhooksConfigured(cfg: Config): boolean {
  return cfg.webhooks.secret !== undefined || cfg.webhooks.secretRef !== undefined;
}

/** WEBHOOK_SECRET, or the value WEBHOOK_SECRET_REF names, read once per 5 minutes (rotation). */
export function webhookSecret(cfg: Config, reader: SecretReader = readSecret): Promise<string> {
  if (cfg.webhooks.secret !== undefined) return Promise.resolve(cfg.webhooks.secret);
  const ref = cfg.webhooks.secretRef;
  if (ref === undefined) return Promise.reject(new ConfigError('no webhook signing secret: set WEBHOOK_SECRET (local stages) or WEBHOOK_SECRET_REF (aws)'));
  if (secretCache === undefined || secretCache.ref !== ref || Date.now() - secretCache.at > SECRET_TTL_MS) {
    const value = dependency('secrets', () => reader(ref, cfg)).then((text) => {
      const v = text.trim();
      if (v.length < 16) throw new ConfigError(`WEBHOOK_SECRET_REF ${ref} must hold a secret of at least 16 characters`);
      return v;
    });
    secretCache = { ref, value, at: Date.now() };
    value.catch(() => (secretCache = undefined));
  }
  return secretCache.value;
}

/**
 * The submission path's check of a notify_url: its shape (validateNotifyUrl), that this
 * deployment can sign webhooks, and that it points at an address webhooks may reach
 * (assertPublicAddress with WEBHOOK_ALLOW_PRIVATE). Returns the normalised URL to store in the
 * job hash as notify_url; every refusal is a 400 naming notify_url.
 */
export async function checkNotifyUrl(cfg: Config, raw: unknown): Promise<string> {
  const url = validateNotifyUrl(raw);
  if (!webhooksConfigured(cfg)) {
    throw new ValidationError('notify_url cannot be used: this deployment has no webhook signing secret (WEBHOOK_SECRET_REF is unset)', { field: 'notify_url' });
  }
  await assertPublicAddress(url, cfg.webhooks.allowPrivate, { timeoutMs: cfg.webhooks.timeoutMs });
  return url;
}

// ---------------------------------------------------------------------------------------------
// One HTTP attempt

interface AttemptResult {
  status: number | null;
  error: string | null;
}

/** Connects to the addresses assertPublicAddress checked, whatever the name resolves to now. */
function pinnedLookup(addresses: ResolvedAddress[]): RequestOptions['lookup'] {
  return ((_host: string, options: { all?: boolean; family?: number }, cb: (...args: unknown[]) => void) => {
    const usable = options?.family === 4 || options?.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses;
    const list = usable.length ? usable : addresses;
    if (options?.all) cb(null, list.map((a) => ({ address: a.address, family: a.family })));
    else cb(null, list[0].address, list[0].family);
  }) as RequestOptions['lookup'];
}

function networkError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const code = err.code ? `${err.code}: ` : '';
  return `${code}${err.message}`.slice(0, 300);
}

/**
 * POSTs once: no redirects followed (a 3xx is a failure), the whole attempt within timeoutMs.
 * The outcome is known at the status line; the body is read and dropped.
 */
function post(url: URL, addresses: ResolvedAddress[], body: string, headers: Record<string, string>, timeoutMs: number, signal: AbortSignal): Promise<AttemptResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: AttemptResult) => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      url,
      { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, lookup: pinnedLookup(addresses), agent: false, signal },
      (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        res.on('error', () => undefined);
        res.on('close', () => clearTimeout(timer));
        res.resume();
        if (status >= 200 && status < 300) finish({ status, error: null });
        else if (status >= 300 && status < 400) finish({ status, error: `redirect not followed (HTTP ${status}${res.headers.location ? `, Location: ${String(res.headers.location).slice(0, 200)}` : ''}); deliveries go to notify_url itself` });
        else finish({ status, error: `HTTP ${status}` });
      },
    );
    const timer = setTimeout(() => {
      finish({ status: null, error: `timed out after ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      finish({ status: null, error: signal.aborted ? 'sender stopping' : networkError(e) });
    });
    req.end(body);
  });
}

// ---------------------------------------------------------------------------------------------
// The per-job state machine (each step one script, checking the lock is still this sender's)

const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  redis.call('ZADD', KEYS[2], 'XX', ARGV[4], ARGV[3])
  return 1
end
return 0
`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * What to do next for a job: lost (lock gone), gone (no job or no notify_url), redeliver,
 * wait (a retry is not due yet), send, idle (caught up: leaves the due set), skip.
 */
const NEXT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {'lost'} end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
local url = redis.call('HGET', KEYS[2], 'notify_url')
if not url then
  redis.call('ZREM', KEYS[5], ARGV[2])
  return {'gone'}
end
local r = redis.call('ZRANGE', KEYS[4], 0, 0)
if r[1] then
  local ev = redis.call('LINDEX', KEYS[3], tonumber(r[1]) - 1)
  if not ev then
    redis.call('ZREM', KEYS[4], r[1])
    return {'skip'}
  end
  local done = redis.call('ZSCORE', KEYS[6], r[1])
  return {'redeliver', url, r[1], ev, tostring(done or 0)}
end
local cursor = tonumber(redis.call('HGET', KEYS[2], 'webhook_seq') or '0')
local ev = redis.call('LINDEX', KEYS[3], cursor)
if not ev then
  redis.call('ZREM', KEYS[5], ARGV[2])
  return {'idle'}
end
local retryAt = tonumber(redis.call('HGET', KEYS[2], 'webhook_retry_at') or '0')
if retryAt > tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[5], retryAt, ARGV[2])
  return {'wait', url, tostring(retryAt)}
end
return {'send', url, tostring(cursor + 1), ev, redis.call('HGET', KEYS[2], 'webhook_attempts') or '0', redis.call('HGET', KEYS[2], 'webhook_down') or '0'}
`;

/** Records an attempt and moves the job on (ARGV[4] = what happened). */
const RECORD = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('ZREM', KEYS[6], ARGV[8])
  return -1
end
local ttl = tonumber(ARGV[3])
redis.call('RPUSH', KEYS[3], ARGV[2])
redis.call('EXPIRE', KEYS[3], ttl)
local mode = ARGV[4]
if mode == 'delivered' then
  redis.call('HSET', KEYS[2], 'webhook_seq', ARGV[5], 'webhook_attempts', 0, 'webhook_retry_at', 0, 'webhook_down', 0)
elseif mode == 'retrying' then
  redis.call('HSET', KEYS[2], 'webhook_attempts', ARGV[6], 'webhook_retry_at', ARGV[7])
  redis.call('ZADD', KEYS[6], ARGV[7], ARGV[8])
elseif mode == 'failed' then
  redis.call('HSET', KEYS[2], 'webhook_seq', ARGV[5], 'webhook_attempts', 0, 'webhook_retry_at', 0, 'webhook_down', 1)
  redis.call('ZADD', KEYS[4], ARGV[6], ARGV[5])
  redis.call('EXPIRE', KEYS[4], ttl)
elseif mode == 'redelivered' then
  redis.call('HSET', KEYS[2], 'webhook_down', 0)
  redis.call('ZREM', KEYS[4], ARGV[5])
  redis.call('ZREM', KEYS[5], ARGV[5])
elseif mode == 'redelivery_failed' then
  redis.call('ZADD', KEYS[4], ARGV[6], ARGV[5])
  redis.call('DEL', KEYS[5])
end
return 1
`;

/** Events one sender delivers for a job before letting other due jobs have a turn. */
const EVENTS_PER_TURN = 50;

export interface SenderStats {
  attempts: number;
  delivered: number;
  failed: number;
}

export interface SenderOptions {
  /** Jobs delivered at once by one sender (each job's events stay in order). */
  concurrency?: number;
  /** The signing secret; webhookSecret(config) by default. */
  secret?: () => Promise<string>;
}

/**
 * Takes due jobs from the due set and delivers their events. poll() starts work for the jobs
 * due now (up to `concurrency` at once) and returns without waiting for it; each job is worked
 * on under its Redis lock, so any number of senders in any number of processes can poll.
 */
export class WebhookSender {
  readonly stats: SenderStats = { attempts: 0, delivered: 0, failed: 0 };
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();
  private readonly concurrency: number;
  private readonly secret: () => Promise<string>;

  constructor(private readonly deps: Clients, opts: SenderOptions = {}) {
    this.concurrency = opts.concurrency ?? 16;
    this.secret = opts.secret ?? (() => webhookSecret(deps.config));
  }

  get busy(): number {
    return this.inFlight.size;
  }

  /** Starts delivering the jobs due now that this sender is not already on; how many it started. */
  async poll(): Promise<number> {
    const free = this.concurrency - this.inFlight.size;
    if (free <= 0 || this.abort.signal.aborted) return 0;
    const { redis } = this.deps;
    const due = await dependency('redis', () => redis.zrangebyscore(webhookDueKey(this.deps), '-inf', Date.now(), 'LIMIT', 0, free + this.inFlight.size));
    const fresh = due.filter((id) => !this.inFlight.has(id)).slice(0, free);
    if (fresh.length === 0) return 0;
    const secret = await this.secret();
    for (const jobId of fresh) {
      const run = this.deliverJob(jobId, secret)
        .catch((e) => log.warn('webhook delivery stopped', { job_id: jobId, ...errorFields(e) }))
        .finally(() => this.inFlight.delete(jobId));
      this.inFlight.set(jobId, run);
    }
    return fresh.length;
  }

  /** Waits for the deliveries under way. */
  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight.values()]);
  }

  /** Stops: attempts in flight are cut off unrecorded; their events are sent again later (same delivery id). */
  async close(): Promise<void> {
    this.abort.abort();
    await this.drain();
  }

  private lockTtlMs(): number {
    // One step: DNS and the request, each bounded by the timeout, plus Redis round trips.
    return 2 * this.deps.config.webhooks.timeoutMs + 10_000;
  }

  private async deliverJob(jobId: string, secret: string): Promise<void> {
    const { deps } = this;
    const token = randomUUID();
    const ttl = this.lockTtlMs();
    const got = await dependency('redis', () => deps.redis.eval(ACQUIRE, 2, lockKey(deps, jobId), webhookDueKey(deps), token, String(ttl), jobId, String(Date.now() + ttl)));
    if (Number(got) !== 1) return;
    try {
      for (let sent = 0; sent < EVENTS_PER_TURN; ) {
        if (this.abort.signal.aborted) return;
        const step = (await dependency('redis', () =>
          deps.redis.eval(NEXT, 6, lockKey(deps, jobId), jobKey(deps, jobId), jobEventsKey(deps, jobId), redeliverKey(deps, jobId), webhookDueKey(deps), failedKey(deps, jobId), token, jobId, String(Date.now()), String(ttl)),
        )) as string[];
        const [what, url, seq, event, attempts, down] = step;
        if (what === 'skip') continue;
        if (what !== 'send' && what !== 'redeliver') return;
        sent++;
        const redelivery = what === 'redeliver';
        const recorded = await this.attempt(jobId, token, { url, seq: Number(seq), event, attemptsSoFar: Number(attempts), redelivery, receiverDown: down === '1' }, secret);
        if (!recorded.continue) return;
      }
      // A long backlog: other due jobs get a turn, this one is due again at once.
      await dependency('redis', () => deps.redis.zadd(webhookDueKey(deps), Date.now(), jobId));
    } finally {
      // Cut off by close(): due again at once, for whichever sender runs next.
      if (this.abort.signal.aborted) await deps.redis.zadd(webhookDueKey(deps), 'XX', Date.now(), jobId).catch(() => undefined);
      await deps.redis.eval(RELEASE, 1, lockKey(deps, jobId), token).catch(() => undefined);
    }
  }

  /** One attempt, recorded; whether the sender goes on with this job now. */
  private async attempt(
    jobId: string,
    token: string,
    a: { url: string; seq: number; event: string; attemptsSoFar: number; redelivery: boolean; receiverDown?: boolean },
    secret: string,
  ): Promise<{ continue: boolean }> {
    const { deps } = this;
    const cfg = deps.config.webhooks;
    const attempt = a.attemptsSoFar + 1;
    let type = 'unknown';
    try {
      type = String((JSON.parse(a.event) as JobEvent).type);
    } catch {
      // recorded as unknown; the body goes out as stored
    }
    const id = deliveryId(jobId, a.seq);
    const startedAt = new Date();
    const t0 = performance.now();
    let result: AttemptResult;
    try {
      const url = new URL(a.url);
      const addresses = await assertPublicAddress(url, cfg.allowPrivate, { timeoutMs: cfg.timeoutMs });
      const headers = {
        'content-type': 'application/json',
        'user-agent': `image-pipeline-webhooks/${deps.config.version}`,
        [EVENT_HEADER]: type,
        [DELIVERY_HEADER]: id,
        [ATTEMPT_HEADER]: String(attempt),
        'X-Pipeline-Signature': signWebhook(secret, a.event),
      };
      result = await post(url, addresses, a.event, headers, cfg.timeoutMs, this.abort.signal);
    } catch (e) {
      result = { status: null, error: e instanceof AppError ? e.message : networkError(e) };
    }
    if (this.abort.signal.aborted) return { continue: false };
    const ms = Math.round((performance.now() - t0) * 10) / 10;
    const ok = result.error === null;
    const maxAttempts = 1 + cfg.retryScheduleS.length;
    let mode: string;
    let outcome: DeliveryOutcome;
    let retryAt = 0;
    if (a.redelivery) {
      mode = ok ? 'redelivered' : 'redelivery_failed';
      outcome = ok ? 'delivered' : 'failed';
    } else if (ok) {
      mode = outcome = 'delivered';
    } else if (attempt < maxAttempts && !a.receiverDown) {
      mode = outcome = 'retrying';
      retryAt = Date.now() + Math.round(cfg.retryScheduleS[attempt - 1] * 1000);
    } else {
      mode = outcome = 'failed';
    }
    const record: DeliveryAttempt = {
      delivery_id: id,
      seq: a.seq,
      type,
      attempt,
      at: startedAt.toISOString(),
      status_code: result.status,
      ms,
      error: result.error,
      outcome,
      ...(outcome === 'retrying' ? { next_attempt_at: new Date(retryAt).toISOString() } : {}),
      ...(a.redelivery ? { redelivery: true } : {}),
    };
    this.stats.attempts++;
    if (ok) this.stats.delivered++;
    else if (outcome === 'failed') this.stats.failed++;
    const applied = await dependency('redis', () =>
      deps.redis.eval(
        RECORD,
        6,
        lockKey(deps, jobId),
        jobKey(deps, jobId),
        jobDeliveriesKey(deps, jobId),
        failedKey(deps, jobId),
        redeliverKey(deps, jobId),
        webhookDueKey(deps),
        token,
        JSON.stringify(record),
        String(deps.config.taskTtlS),
        mode,
        String(a.seq),
        String(attempt),
        String(retryAt),
        jobId,
      ),
    );
    if (Number(applied) !== 1) return { continue: false };
    log.debug('webhook attempt', { job_id: jobId, seq: a.seq, attempt, outcome, status: result.status, ms });
    return { continue: outcome !== 'retrying' };
  }
}

// ---------------------------------------------------------------------------------------------
// Where the sender runs

/** `npm start`: poll every `intervalMs` until stopped. */
export function startWebhookLoop(deps: Clients, opts: SenderOptions & { intervalMs?: number } = {}): { sender: WebhookSender; stop: () => Promise<void> } {
  const sender = new WebhookSender(deps, opts);
  const intervalMs = opts.intervalMs ?? 250;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let lastErrorLog = 0;
  const tick = async () => {
    try {
      await sender.poll();
    } catch (e) {
      // Redis restarting, no secret: said once a minute, retried every tick.
      if (Date.now() - lastErrorLog > 60_000) {
        lastErrorLog = Date.now();
        log.warn('webhook sender cannot poll; retrying', errorFields(e));
      }
    }
    if (!stopped) timer = setTimeout(tick, intervalMs);
  };
  timer = setTimeout(tick, 0);
  return {
    sender,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await sender.close();
    },
  };
}

export interface ScheduledRunOptions extends SenderOptions {
  /** Stop starting new work at this time (ms since epoch); in-flight attempts then finish. */
  until: number;
  /** Keep polling this long after the last work seen (a job's next events come soon). */
  lingerMs?: number;
  intervalMs?: number;
}

/**
 * The aws stage's scheduled function (every minute): delivers what is due, then keeps polling
 * while work keeps coming (or a retry falls due before `until`), so an active job's events go
 * out within about a second instead of waiting for the next minute.
 */
export async function runScheduledSender(deps: Clients, opts: ScheduledRunOptions): Promise<SenderStats & { ran_ms: number }> {
  const started = Date.now();
  const sender = new WebhookSender(deps, opts);
  const lingerMs = opts.lingerMs ?? 20_000;
  const intervalMs = opts.intervalMs ?? 500;
  // An idle run ends at once; one that finds work lingers after it.
  let lastWork = -Infinity;
  try {
    while (Date.now() < opts.until) {
      await deps.redis.set(senderAliveKey(deps), '1', 'PX', intervalMs * 4).catch(() => undefined);
      const startedJobs = await sender.poll();
      if (startedJobs > 0 || sender.busy > 0) lastWork = Date.now();
      else if (Date.now() - lastWork > lingerMs) {
        const [, score] = await dependency('redis', () => deps.redis.zrange(webhookDueKey(deps), 0, 0, 'WITHSCORES'));
        // Nothing due before the time is up: the next scheduled run takes it.
        if (score === undefined || Number(score) > opts.until) break;
      }
      await sleep(intervalMs);
    }
  } finally {
    // Even when a poll failed (Redis, the secret): attempts under way finish and are recorded
    // before the function returns and is frozen.
    await sender.drain();
    await deps.redis.del(senderAliveKey(deps)).catch(() => undefined);
  }
  return { ...sender.stats, ran_ms: Date.now() - started };
}

/**
 * On the aws stage, invokes the sender function now (asynchronously) unless one is running, so
 * work queued by a request does not wait for the next scheduled run. Elsewhere (the local loop
 * polls every 250 ms) and on failure it does nothing: the schedule picks the work up anyway.
 */
export async function wakeWebhookSender(deps: Clients): Promise<boolean> {
  const fn = deps.config.webhooks.senderFunction;
  if (fn === undefined) return false;
  try {
    if (await deps.redis.exists(senderAliveKey(deps))) return false;
    await lambdaClient(deps.config).send(new InvokeCommand({ FunctionName: fn, InvocationType: 'Event' }));
    return true;
  } catch (e) {
    log.warn('could not wake the webhook sender; its schedule will deliver', { function: fn, ...errorFields(e) });
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// The HTTP side: the attempts made, and redelivery

export const MAX_DELIVERIES_PAGE = 1000;

function pageParam(raw: string | undefined, field: string, def: number, min: number, max: number): number {
  if (raw === undefined) return def;
  const n = /^\d{1,9}$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ValidationError(`${field} must be an integer from ${min} to ${max}; got ${JSON.stringify(raw.slice(0, 60))}`, { field, details: { min, max } });
  }
  return n;
}

/** ?offset=&limit= of GET /api/jobs/{job_id}/deliveries/ (oldest first). */
export function parseDeliveriesPage(query: Record<string, string>): { offset: number; limit: number } {
  return {
    offset: pageParam(query.offset, 'offset', 0, 0, 100_000_000),
    limit: pageParam(query.limit, 'limit', MAX_DELIVERIES_PAGE, 1, MAX_DELIVERIES_PAGE),
  };
}

async function existingJob(deps: Clients, jobId: string): Promise<{ notifyUrl: string | null; seq: number; retryAt: number; down: boolean }> {
  const [[, exists], [, fields]] = (await dependency('redis', () =>
    deps.redis.multi().exists(jobKey(deps, jobId)).hmget(jobKey(deps, jobId), 'notify_url', 'webhook_seq', 'webhook_retry_at', 'webhook_down').exec(),
  )) as [[unknown, number], [unknown, (string | null)[]]];
  if (!exists) throw new NotFoundError(`no job ${jobId} (unknown, or expired after TASK_TTL_S)`, { field: 'job_id' });
  return { notifyUrl: fields[0], seq: Number(fields[1] ?? 0), retryAt: Number(fields[2] ?? 0), down: fields[3] === '1' };
}

const seqs = (members: string[]) => members.map(Number).sort((a, b) => a - b);

export interface DeliveriesView {
  job_id: string;
  notify_url: string | null;
  /** The last seq the sender is done with (delivered, or failed after its last attempt). */
  cursor_seq: number;
  /** When the next retry of the event after cursor_seq is due; null when none waits. */
  next_attempt_at: string | null;
  /** An event failed after its last attempt and no delivery has succeeded since: later events get one attempt each. */
  receiver_down: boolean;
  /** Events whose delivery failed (after every attempt) and has not succeeded since. */
  failed_seqs: number[];
  /** Failed events queued by POST .../redeliver/ and not yet tried again. */
  redelivery_queued_seqs: number[];
  total: number;
  offset: number;
  limit: number;
  deliveries: DeliveryAttempt[];
}

/** Every delivery attempt for a job, oldest first (a page of them), with where the sender is. */
export async function listDeliveries(deps: Clients, jobId: string, page: { offset?: number; limit?: number } = {}): Promise<DeliveriesView> {
  const offset = page.offset ?? 0;
  const limit = page.limit ?? MAX_DELIVERIES_PAGE;
  const job = await existingJob(deps, jobId);
  const res = (await dependency('redis', () =>
    deps.redis
      .multi()
      .llen(jobDeliveriesKey(deps, jobId))
      .lrange(jobDeliveriesKey(deps, jobId), offset, offset + limit - 1)
      .zrange(failedKey(deps, jobId), 0, -1)
      .zrange(redeliverKey(deps, jobId), 0, -1)
      .exec(),
  )) as [unknown, unknown][];
  const [total, raw, failed, queued] = res.map(([, v]) => v) as [number, string[], string[], string[]];
  return {
    job_id: jobId,
    notify_url: job.notifyUrl,
    cursor_seq: job.seq,
    next_attempt_at: job.retryAt > 0 ? new Date(job.retryAt).toISOString() : null,
    receiver_down: job.down,
    failed_seqs: seqs(failed),
    redelivery_queued_seqs: seqs(queued),
    total,
    offset,
    limit,
    deliveries: raw.map((r) => JSON.parse(r) as DeliveryAttempt),
  };
}

const QUEUE_REDELIVERY = `
local failed = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, seq in ipairs(failed) do redis.call('ZADD', KEYS[2], tonumber(seq), seq) end
if #failed > 0 then
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[1]))
  redis.call('ZADD', KEYS[3], ARGV[2], ARGV[3])
end
return failed
`;

/**
 * Queues every failed delivery of a job to be sent again, oldest seq first, one attempt each,
 * ahead of the job's next events; the sender records them as new attempts (redelivery: true)
 * with the same delivery id. If one fails again, the rest stay failed, untried, for a later
 * redeliver. Returns the queued seqs.
 */
export async function redeliverFailed(deps: Clients, jobId: string): Promise<{ job_id: string; queued_seqs: number[]; deliveries_url: string }> {
  const job = await existingJob(deps, jobId);
  if (job.notifyUrl === null) throw new UnprocessableError(`job ${jobId} has no notify_url: it has no deliveries to resend`, { field: 'notify_url' });
  const failed = (await dependency('redis', () =>
    deps.redis.eval(QUEUE_REDELIVERY, 3, failedKey(deps, jobId), redeliverKey(deps, jobId), webhookDueKey(deps), String(deps.config.taskTtlS), String(Date.now()), jobId),
  )) as string[];
  if (failed.length > 0) await wakeWebhookSender(deps);
  return { job_id: jobId, queued_seqs: seqs(failed), deliveries_url: `${deps.config.http.publicUrl}/api/jobs/${jobId}/deliveries/` };
}
