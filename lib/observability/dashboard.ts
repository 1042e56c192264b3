/**
 * GET /api/dashboard/: everything the dashboard shows, in one request per tick — workers,
 * queue depth, outcome totals, recent tasks, processing-time percentiles and per-filter
 * means, and completed/failed counts per 15 s over the last 10 minutes.
 */
import { z } from 'zod';
import type { Clients } from '../core/clients';
import { NotFoundError } from '../core/errors';
import { percentileOf } from '../core/numbers';
import { explain } from '../core/validate';
import { getTasks, pickFields, recentTaskIds, TASK_SUMMARY_FIELDS, type TaskRecord } from '../tasks/store';
import { workersStatus } from '../worker/status';

/** The dashboard's built files (scripts/build-dashboard.ts) and their types: the only names GET /dashboard/{asset} serves. */
export const DASHBOARD_ASSETS: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

export const DashboardAssetPath = z.object({
  asset: explain(z.enum(Object.keys(DASHBOARD_ASSETS) as [string, ...string[]]).meta({ description: 'a file of the dashboard' }), ({ raw }) => ({
    message: `no dashboard asset ${JSON.stringify(String(raw ?? '').slice(0, 60))}`,
    field: null,
    error: NotFoundError,
  })),
});

export const RECENT_TASKS = 200;
const TIMELINE_BUCKET_S = 15;
const TIMELINE_SPAN_S = 600;
/** Points on the processing-time chart and rows in the recent-tasks table. */
const PROCESSING_SAMPLES = 100;
const RECENT_ROWS = 50;

export function summariseTasks(tasks: TaskRecord[], now = Date.now()) {
  const completed = tasks.filter((t) => t.status === 'completed' && t.processing_ms !== null);
  const times = completed.map((t) => t.processing_ms!).sort((a, b) => a - b);
  const perFilter = new Map<string, number[]>();
  for (const t of completed) for (const f of t.filter_ms ?? []) perFilter.set(f.name, [...(perFilter.get(f.name) ?? []), f.ms]);
  const reasons: Record<string, number> = {};
  for (const t of tasks) if (t.status === 'failed') reasons[`${t.failure_type}/${t.failure_reason}`] = (reasons[`${t.failure_type}/${t.failure_reason}`] ?? 0) + 1;

  const buckets = TIMELINE_SPAN_S / TIMELINE_BUCKET_S;
  const start = Math.floor(now / 1000 / TIMELINE_BUCKET_S) * TIMELINE_BUCKET_S - (buckets - 1) * TIMELINE_BUCKET_S;
  const timeline = Array.from({ length: buckets }, (_, i) => ({ t: start + i * TIMELINE_BUCKET_S, completed: 0, failed: 0 }));
  for (const t of tasks) {
    if (!t.finished_at || (t.status !== 'completed' && t.status !== 'failed')) continue;
    const i = Math.floor((Date.parse(t.finished_at) / 1000 - start) / TIMELINE_BUCKET_S);
    if (i >= 0 && i < buckets) timeline[i][t.status]++;
  }
  return {
    processing: {
      samples: completed.slice(0, PROCESSING_SAMPLES).map((t) => ({ t: Date.parse(t.finished_at ?? t.queued_at) / 1000, ms: t.processing_ms! })).reverse(),
      p50_ms: times.length ? percentileOf(times, 50) : null,
      p95_ms: times.length ? percentileOf(times, 95) : null,
      per_filter_mean_ms: Object.fromEntries([...perFilter].map(([f, v]) => [f, Math.round((v.reduce((a, b) => a + b, 0) / v.length) * 10) / 10])),
    },
    failures_by_reason: reasons,
    timeline: { bucket_s: TIMELINE_BUCKET_S, points: timeline },
  };
}

export async function dashboardSnapshot(deps: Clients) {
  const [status, ids] = await Promise.all([workersStatus(deps), recentTaskIds(deps, RECENT_TASKS)]);
  const tasks = await getTasks(deps, ids);
  return {
    time: Date.now() / 1000,
    ...status,
    ...summariseTasks(tasks),
    recent_tasks: tasks.slice(0, RECENT_ROWS).map((t) => pickFields(t, TASK_SUMMARY_FIELDS)),
  };
}
