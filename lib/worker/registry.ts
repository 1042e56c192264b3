/**
 * Worker registry and heartbeats in Redis. A worker registers (id, capabilities, pid,
 * host, started_at), refreshes a TTL key every heartbeat interval, and records idle/busy
 * with its current task and its counts. A worker whose heartbeat key expired (3 intervals
 * without a beat) is offline.
 */
import os from 'node:os';
import type { Clients } from '../core/clients';
import { dependency } from '../core/dependencies';
import { FILTER_NAMES } from '../filters/registry';
import { ConfigError } from '../core/config';
import type { AttemptCounter } from '../tasks/store';
import { builtInCapabilities } from './classes';


export const WORKER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface WorkerIdentity {
  id: string;
  capabilities: string[];
  /** "all" when the worker takes every filter (the seed's general-purpose worker). */
  all: boolean;
}

/** WORKER_ID plus WORKER_CAPABILITIES (a filter list or "all"), else the built-in set for the id. */
export function resolveIdentity(id: string | undefined, capabilities: string | undefined): WorkerIdentity {
  if (!id || !WORKER_ID.test(id)) {
    throw new ConfigError(`WORKER_ID must be 1-64 letters, digits, '.', '_' or '-' (e.g. worker-1); got ${JSON.stringify(id ?? '')}`);
  }
  let caps: string[];
  if (capabilities) {
    caps = capabilities.split(',').map((c) => c.trim()).filter(Boolean);
    if (caps.length === 1 && caps[0] === 'all') caps = [...FILTER_NAMES];
    const unknown = caps.filter((c) => !FILTER_NAMES.includes(c));
    if (unknown.length || caps.length === 0) {
      throw new ConfigError(`WORKER_CAPABILITIES must be "all" or a comma list of ${FILTER_NAMES.join(', ')}; unknown: ${unknown.join(', ') || '(empty)'}`);
    }
  } else {
    const builtIn = builtInCapabilities(id);
    if (!builtIn) throw new ConfigError(`worker ${id} has no built-in capabilities; set WORKER_CAPABILITIES (a filter list or "all")`);
    caps = [...builtIn];
  }
  return { id, capabilities: caps, all: FILTER_NAMES.every((f) => caps.includes(f)) };
}

const workerKey = (deps: Clients, id: string) => deps.key('worker', id);
const aliveKey = (deps: Clients, id: string) => deps.key('worker', id, 'alive');
const workersKey = (deps: Clients) => deps.key('workers');

/** Missed heartbeats after which a worker counts as offline. */
export const MISSED_BEATS_OFFLINE = 3;

/** Seconds without a heartbeat after which a worker is offline (its alive key's TTL). */
export function offlineAfterS(deps: Clients): number {
  return deps.config.workers.heartbeatIntervalS * MISSED_BEATS_OFFLINE;
}

const ttlS = offlineAfterS;

export async function registerWorker(deps: Clients, w: WorkerIdentity): Promise<void> {
  const now = new Date().toISOString();
  await dependency('redis', () =>
    deps.redis
      .multi()
      .sadd(workersKey(deps), w.id)
      .hset(workerKey(deps, w.id), {
        id: w.id,
        capabilities: JSON.stringify(w.capabilities),
        all: w.all ? '1' : '0',
        pid: String(process.pid),
        host: os.hostname(),
        started_at: now,
        status: 'idle',
        current_task: '',
        last_heartbeat: String(Date.now()),
        heartbeat_interval_s: String(deps.config.workers.heartbeatIntervalS),
      })
      .expire(workerKey(deps, w.id), deps.config.workerRecordTtlS)
      .set(aliveKey(deps, w.id), '1', 'EX', ttlS(deps))
      .exec(),
  );
  await forgetExpiredWorkers(deps);
}

/** Ids whose record expired (WORKER_RECORD_TTL_S) leave the set on the write path, so worker churn cannot grow it. */
async function forgetExpiredWorkers(deps: Clients): Promise<void> {
  await dependency('redis', async () => {
    const ids = await deps.redis.smembers(workersKey(deps));
    const m = deps.redis.multi();
    for (const id of ids) m.exists(workerKey(deps, id));
    const replies = (await m.exec()) ?? [];
    const gone = ids.filter((_, i) => replies[i]?.[1] === 0);
    if (gone.length) await deps.redis.srem(workersKey(deps), ...gone);
  });
}

export async function heartbeat(deps: Clients, id: string): Promise<void> {
  await dependency('redis', () =>
    deps.redis
      .multi()
      .hset(workerKey(deps, id), 'last_heartbeat', String(Date.now()))
      .expire(workerKey(deps, id), deps.config.workerRecordTtlS)
      .set(aliveKey(deps, id), '1', 'EX', ttlS(deps))
      .exec(),
  );
}

/** The worker's record, for claimTask to mark it busy with the task it claims. */
export function busyFlag(deps: Clients, id: string): string {
  return workerKey(deps, id);
}

/** The worker's counter for an outcome, for finishAttempt to add with it. */
export function outcomeCounter(deps: Clients, id: string, outcome: 'processed' | 'failed', processingMs?: number): AttemptCounter {
  return { key: workerKey(deps, id), field: outcome, processingMs };
}

export async function deregisterWorker(deps: Clients, id: string): Promise<void> {
  await dependency('redis', () =>
    deps.redis.multi().hset(workerKey(deps, id), { status: 'stopped', current_task: '', stopped_at: new Date().toISOString() }).del(aliveKey(deps, id)).exec(),
  );
}

export interface WorkerView {
  id: string;
  capabilities: string[];
  alive: boolean;
  status: 'idle' | 'busy' | 'offline' | 'stopped';
  current_task: string | null;
  heartbeat_age_s: number | null;
  processed: number;
  failed: number;
  mean_processing_ms: number | null;
  pid: number | null;
  host: string | null;
  started_at: string | null;
}

export async function listWorkers(deps: Clients): Promise<WorkerView[]> {
  return dependency('redis', async () => {
    const ids = (await deps.redis.smembers(workersKey(deps))).sort();
    if (ids.length === 0) return [];
    const m = deps.redis.multi();
    for (const id of ids) m.hgetall(workerKey(deps, id)).exists(aliveKey(deps, id));
    const replies = (await m.exec()) ?? [];
    return ids.map((id, i) => {
      const h = (replies[2 * i][1] ?? {}) as Record<string, string>;
      const alive = (replies[2 * i + 1][1] as number) === 1;
      const processed = Number(h.processed ?? 0);
      const recorded = (h.status ?? 'idle') as WorkerView['status'];
      return {
        id,
        capabilities: h.capabilities ? JSON.parse(h.capabilities) : [],
        alive,
        status: alive ? recorded : recorded === 'stopped' ? 'stopped' : 'offline',
        current_task: alive && h.current_task ? h.current_task : null,
        heartbeat_age_s: h.last_heartbeat ? Math.round((Date.now() - Number(h.last_heartbeat)) / 100) / 10 : null,
        processed,
        failed: Number(h.failed ?? 0),
        mean_processing_ms: processed ? Math.round((Number(h.processing_ms_sum ?? 0) / processed) * 10) / 10 : null,
        pid: h.pid ? Number(h.pid) : null,
        host: h.host ?? null,
        started_at: h.started_at ?? null,
      };
    });
  });
}
