/**
 * Request statistics shared by every API instance through Redis: counts by route and
 * status, latency histograms, in-flight requests per instance, and each instance's
 * process figures. Recording never fails or delays a request: when Redis is not
 * connected the sample is skipped (and counted locally as dropped).
 */
import os from 'node:os';
import { threadId } from 'node:worker_threads';
import type { Clients } from '../core/clients';
import { dependency } from '../core/dependencies';
import { bucketIndex, percentile } from '../core/histogram';
import { round } from '../core/numbers';

const INSTANCE_TTL_S = 60;
/** How often one process forgets instances whose record expired (write path, not on GET). */
const PRUNE_EVERY_MS = INSTANCE_TTL_S * 1000;
const startedAt = Date.now();
export const instanceId = `${os.hostname()}:${process.pid}:${threadId}`;
let droppedSamples = 0;
let lastPrune = 0;

/**
 * The `stats:*` key layout, owned here alone (docs/configuration.md, "Redis keys"). Every key is bounded by
 * the route table (routes come from it only: lib/core/http.ts UNMATCHED_ROUTE), the status
 * codes answered, the histogram's BUCKET_COUNT and the live API instances.
 */
export function statsKeys(deps: Clients) {
  const k = (...p: string[]) => deps.key('stats', ...p);
  return {
    since: k('since'),
    /** hash `route|status` -> count */
    requests: k('requests'),
    routes: k('routes'),
    latency: (route: string) => k('latency', route),
    latencyByStatus: (routeStatus: string) => k('latency_by_status', routeStatus),
    /** hash instance id -> requests in flight */
    inflight: k('inflight'),
    instances: k('instances'),
    instance: (id: string) => k('instance', id),
  };
}

/** The one encoding of the `route|status` hash field (routes may contain '|', statuses never). */
export const routeStatusField = (route: string, status: number | string) => `${route}|${status}`;

export function splitRouteStatus(field: string): { route: string; status: string } {
  const i = field.lastIndexOf('|');
  return { route: field.slice(0, i), status: field.slice(i + 1) };
}

/** Every (route, status) answered so far, with its count and latency histogram hash: what /api/metrics exports. */
export async function readRouteStatusSeries(deps: Clients) {
  const keys = statsKeys(deps);
  return dependency('redis', async () => {
    const requests = await deps.redis.hgetall(keys.requests);
    const fields = Object.keys(requests);
    const latency = await Promise.all(fields.map((f) => deps.redis.hgetall(keys.latencyByStatus(f))));
    return fields.map((f, i) => ({ ...splitRouteStatus(f), count: Number(requests[f]), latency: latency[i] }));
  });
}

function redisReady(deps: Clients): boolean {
  return deps.redis.status === 'ready';
}

function processFigures() {
  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  const uptimeS = process.uptime();
  return {
    id: instanceId,
    pid: process.pid,
    host: os.hostname(),
    started_at: new Date(startedAt).toISOString(),
    uptime_s: round(uptimeS, 1),
    memory_mb: { rss: round(mem.rss / 2 ** 20), heap_used: round(mem.heapUsed / 2 ** 20), external: round(mem.external / 2 ** 20) },
    cpu: {
      user_s: round(cpu.user / 1e6, 2),
      system_s: round(cpu.system / 1e6, 2),
      // Average over the process's life, as a share of one core.
      percent: round(((cpu.user + cpu.system) / 1e6 / Math.max(uptimeS, 0.001)) * 100, 1),
    },
  };
}

/**
 * How old the process figures in an instance's record may be. process.memoryUsage() costs the
 * API ~0.4 ms of CPU per request (a profile over 160 task submissions); a record
 * that lives INSTANCE_TTL_S and is read by people loses nothing by being a second old.
 */
const FIGURES_MAX_AGE_MS = 1000;
let recentFigures: { at: number; figures: ReturnType<typeof processFigures> } | undefined;

function recentProcessFigures(now: number) {
  if (!recentFigures || now - recentFigures.at >= FIGURES_MAX_AGE_MS) recentFigures = { at: now, figures: processFigures() };
  return recentFigures.figures;
}

export function recordRequestStart(deps: Clients): void {
  if (!redisReady(deps)) return;
  deps.redis.hincrby(statsKeys(deps).inflight, instanceId, 1).catch(() => undefined);
}

export async function recordRequestEnd(deps: Clients, route: string, status: number, ms: number): Promise<void> {
  if (!redisReady(deps)) {
    droppedSamples++;
    return;
  }
  const keys = statsKeys(deps);
  const bucket = String(bucketIndex(ms));
  const rs = routeStatusField(route, status);
  try {
    await deps.redis
      .multi()
      .setnx(keys.since, new Date().toISOString())
      .hincrby(keys.requests, rs, 1)
      .hincrby(keys.latency(route), bucket, 1)
      .hincrbyfloat(keys.latency(route), 'sum', ms)
      .hincrby(keys.latency(route), 'count', 1)
      // Per route and status too, for the Prometheus histogram's labels.
      .hincrby(keys.latencyByStatus(rs), bucket, 1)
      .hincrbyfloat(keys.latencyByStatus(rs), 'sum', ms)
      .hincrby(keys.latencyByStatus(rs), 'count', 1)
      .sadd(keys.routes, route)
      .hincrby(keys.inflight, instanceId, -1)
      .sadd(keys.instances, instanceId)
      .set(keys.instance(instanceId), JSON.stringify({ ...recentProcessFigures(Date.now()), last_seen: Date.now() }), 'EX', INSTANCE_TTL_S)
      .exec();
    if (Date.now() - lastPrune >= PRUNE_EVERY_MS) {
      lastPrune = Date.now();
      await pruneGoneInstances(deps);
    }
  } catch {
    droppedSamples++;
  }
}

/** Instances whose record expired stopped long ago: forget them and their in-flight counts, so restarts cannot grow these. */
async function pruneGoneInstances(deps: Clients): Promise<void> {
  const keys = statsKeys(deps);
  const ids = await deps.redis.smembers(keys.instances);
  if (ids.length === 0) return;
  const docs = await deps.redis.mget(ids.map(keys.instance));
  const gone = ids.filter((_, i) => !docs[i]);
  if (gone.length) await deps.redis.multi().srem(keys.instances, ...gone).hdel(keys.inflight, ...gone).exec();
}

function latencySummary(hash: Record<string, string>) {
  const counts = new Map<number, number>();
  for (const [field, v] of Object.entries(hash)) if (/^\d+$/.test(field)) counts.set(Number(field), Number(v));
  const count = Number(hash.count ?? 0);
  return {
    counts,
    summary: {
      count,
      mean: count ? round(Number(hash.sum ?? 0) / count) : null,
      p50: round(percentile(counts, 50)),
      p95: round(percentile(counts, 95)),
      p99: round(percentile(counts, 99)),
    },
  };
}

export async function readStats(deps: Clients) {
  const keys = statsKeys(deps);
  return dependency('redis', async () => {
    const [since, requests, routes, inflight, instanceIds] = await Promise.all([
      deps.redis.get(keys.since),
      deps.redis.hgetall(keys.requests),
      deps.redis.smembers(keys.routes),
      deps.redis.hgetall(keys.inflight),
      deps.redis.smembers(keys.instances),
    ]);
    const latencyHashes = await Promise.all(routes.map((r) => deps.redis.hgetall(keys.latency(r))));
    const instanceDocs = instanceIds.length ? await deps.redis.mget(instanceIds.map(keys.instance)) : [];

    // An instance whose record expired is not shown; the write path forgets it (a GET only reads).
    const instances = [];
    for (const doc of instanceDocs) {
      if (!doc) continue;
      const parsed = JSON.parse(doc);
      instances.push({ ...parsed, last_seen_s_ago: round((Date.now() - parsed.last_seen) / 1000, 1) });
    }

    const byEndpoint: Record<string, { total: number; by_status: Record<string, number>; latency_ms: ReturnType<typeof latencySummary>['summary'] }> = {};
    const all = new Map<number, number>();
    let allSum = 0;
    routes.forEach((route, i) => {
      const { counts, summary } = latencySummary(latencyHashes[i]);
      for (const [b, c] of counts) all.set(b, (all.get(b) ?? 0) + c);
      allSum += Number(latencyHashes[i].sum ?? 0);
      byEndpoint[route] = { total: 0, by_status: {}, latency_ms: summary };
    });
    let total = 0;
    const byStatus: Record<string, number> = {};
    for (const [field, v] of Object.entries(requests)) {
      const { route, status } = splitRouteStatus(field);
      const n = Number(v);
      total += n;
      byStatus[status] = (byStatus[status] ?? 0) + n;
      const e = (byEndpoint[route] ??= { total: 0, by_status: {}, latency_ms: latencySummary({}).summary });
      e.total += n;
      e.by_status[status] = (e.by_status[status] ?? 0) + n;
    }
    const liveIds = new Set(instances.map((i) => i.id));
    const inFlight = Object.entries(inflight)
      .filter(([id]) => liveIds.has(id) || id === instanceId)
      .reduce((a, [, v]) => a + Math.max(0, Number(v)), 0);
    const totalCount = [...all.values()].reduce((a, b) => a + b, 0);

    return {
      since,
      requests: {
        total,
        by_status: byStatus,
        by_endpoint: byEndpoint,
        // This request is still running, so in_flight is at least 1.
        in_flight: inFlight,
        latency_ms: {
          count: totalCount,
          mean: totalCount ? round(allSum / totalCount) : null,
          p50: round(percentile(all, 50)),
          p95: round(percentile(all, 95)),
          p99: round(percentile(all, 99)),
        },
      },
      instances,
      this_instance: { ...processFigures(), dropped_stat_samples: droppedSamples },
      system: {
        loadavg: os.loadavg().map((n) => round(n, 2)),
        cpus: os.cpus().length,
        memory_mb: { total: round(os.totalmem() / 2 ** 20, 0), free: round(os.freemem() / 2 ** 20, 0) },
      },
    };
  });
}
