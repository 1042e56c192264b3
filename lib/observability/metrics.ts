/**
 * GET /api/metrics: Prometheus text exposition built with prom-client's registry. Every
 * number is read from the shared sources at scrape time — Redis for requests, tasks,
 * filters and workers, SQS for queue depth — so any API process reports the totals of all.
 * Histograms come from the log-spaced buckets in Redis, folded into standard `le` bounds.
 */
import { Registry } from 'prom-client';
import type { Clients } from '../core/clients';
import { dependency } from '../core/dependencies';
import { bucketUpperBound } from '../core/histogram';
import { filterNamesKey, filterTimesKey } from '../tasks/store';
import { readRouteStatusSeries } from './stats';
import { ROUTES, routeQueueUrl } from '../tasks/dispatch';
import { deadLetterQueueUrl, queueDepth, taskQueueUrl } from '../tasks/queues';
import { outcomeTotals } from '../tasks/store';
import { listWorkerViews } from '../worker/liveness';
import { FILTER_NAMES } from '../filters/registry';

type Labels = Record<string, string>;
interface Sample {
  metricName?: string;
  labels: Labels;
  value: number;
}

const LE_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Folds a Redis hash of log-bucket counts (ms) into cumulative Prometheus buckets (s). */
export function histogramSamples(name: string, labels: Labels, hash: Record<string, string>): Sample[] {
  const counts: [number, number][] = Object.entries(hash)
    .filter(([k]) => /^\d+$/.test(k))
    .map(([k, v]) => [bucketUpperBound(Number(k)) / 1000, Number(v)]);
  const samples: Sample[] = LE_SECONDS.map((le) => ({
    metricName: `${name}_bucket`,
    labels: { ...labels, le: String(le) },
    value: counts.filter(([upper]) => upper <= le).reduce((a, [, c]) => a + c, 0),
  }));
  const count = Number(hash.count ?? 0);
  samples.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: count });
  samples.push({ metricName: `${name}_sum`, labels, value: Number(hash.sum ?? 0) / 1000 });
  samples.push({ metricName: `${name}_count`, labels, value: count });
  return samples;
}

function metric(name: string, help: string, type: 'counter' | 'gauge' | 'histogram', values: Sample[]) {
  return { name, get: async () => ({ name, help, type, values, aggregator: 'sum' as const }) };
}

async function queueSamples(deps: Clients): Promise<Sample[]> {
  const out: Sample[] = [];
  const queues: [string, string][] = [
    ['tasks', await taskQueueUrl(deps)],
    ['dead_letter', await deadLetterQueueUrl(deps)],
  ];
  if (deps.config.dispatch.mode === 'capability') for (const r of ROUTES) queues.push([`tasks-${r.name}`, await routeQueueUrl(deps, r)]);
  for (const [queue, url] of queues) {
    const depth = await queueDepth(deps, url);
    out.push({ labels: { queue, state: 'visible' }, value: depth.visible });
    out.push({ labels: { queue, state: 'in_flight' }, value: depth.in_flight });
  }
  return out;
}

export async function renderMetrics(deps: Clients): Promise<{ contentType: string; body: string }> {
  const [series, filters, totals, workers, queue] = await Promise.all([
    readRouteStatusSeries(deps),
    dependency('redis', () => deps.redis.smembers(filterNamesKey(deps))),
    outcomeTotals(deps),
    listWorkerViews(deps),
    queueSamples(deps),
  ]);
  const filterHashes = await dependency('redis', () => Promise.all(filters.map((f) => deps.redis.hgetall(filterTimesKey(deps, f)))));

  const registry = new Registry();
  const register = (m: ReturnType<typeof metric>) => registry.registerMetric(m as never);

  register(metric('http_requests_total', 'HTTP requests answered, by route and status, across all API processes.', 'counter', series.map((s) => ({ labels: { route: s.route, status: s.status }, value: s.count }))));
  register(
    metric(
      'http_request_duration_seconds',
      'HTTP request duration by route and status, across all API processes.',
      'histogram',
      series.flatMap((s) => histogramSamples('http_request_duration_seconds', { route: s.route, status: s.status }, s.latency)),
    ),
  );
  register(
    metric('pipeline_tasks_total', 'Distributed tasks that reached a terminal state, by outcome and failure type.', 'counter', [
      { labels: { outcome: 'completed', failure_type: '' }, value: totals.completed },
      { labels: { outcome: 'failed', failure_type: 'job_failure' }, value: totals.failed_by_type.job_failure },
      { labels: { outcome: 'failed', failure_type: 'worker_failure' }, value: totals.failed_by_type.worker_failure },
    ]),
  );
  register(
    metric('pipeline_filter_duration_seconds', 'Time of each filter step in completed distributed tasks.', 'histogram', filters.flatMap((f, i) => histogramSamples('pipeline_filter_duration_seconds', { filter: f }, filterHashes[i]))),
  );
  register(metric('pipeline_queue_messages', 'Messages in the task queue and the dead-letter queue (from SQS).', 'gauge', queue));
  const alive = workers.filter((w) => w.alive);
  register(
    metric(
      'pipeline_workers_alive',
      'Live workers able to run each filter.',
      'gauge',
      FILTER_NAMES.map((f) => ({ labels: { capability: f }, value: alive.filter((w) => w.capabilities.includes(f)).length })),
    ),
  );
  register(
    metric('pipeline_worker_heartbeat_age_seconds', 'Seconds since each known worker last beat.', 'gauge', workers.filter((w) => w.heartbeat_age_s !== null).map((w) => ({ labels: { worker: w.id }, value: w.heartbeat_age_s! }))),
  );
  register(metric('pipeline_worker_up', '1 when the worker heartbeat is live, else 0.', 'gauge', workers.map((w) => ({ labels: { worker: w.id }, value: w.alive ? 1 : 0 }))));
  return { contentType: registry.contentType, body: await registry.metrics() };
}
