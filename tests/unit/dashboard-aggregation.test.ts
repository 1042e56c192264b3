import { summariseTasks } from '../../lib/observability/dashboard';
import { histogramSamples } from '../../lib/observability/metrics';
import { bucketIndex } from '../../lib/core/histogram';
import type { TaskRecord } from '../../lib/tasks/store';

const NOW = Date.parse('2026-11-28T12:00:00Z');
const task = (over: Partial<TaskRecord>): TaskRecord =>
  ({ task_id: Math.random().toString(), status: 'completed', filters: ['blur'], queued_at: new Date(NOW - 60_000).toISOString(), finished_at: new Date(NOW - 30_000).toISOString(), processing_ms: 100, filter_ms: [{ name: 'blur', ms: 80 }], failure_type: null, failure_reason: null, ...over }) as TaskRecord;

test('percentiles, per-filter means, failure reasons and the 15 s timeline', () => {
  const tasks = [
    ...Array.from({ length: 19 }, (_, i) => task({ processing_ms: 100 + i, filter_ms: [{ name: 'blur', ms: 10 }, { name: 'sharpen', ms: 50 }] })),
    task({ processing_ms: 1000, filter_ms: [{ name: 'blur', ms: 30 }] }),
    task({ status: 'failed', processing_ms: null, failure_type: 'job_failure', failure_reason: 'worker_capability_mismatch', finished_at: new Date(NOW - 5_000).toISOString() }),
    task({ status: 'failed', processing_ms: null, failure_type: 'worker_failure', failure_reason: 'max_deliveries_exceeded', finished_at: new Date(NOW - 5_000).toISOString() }),
    task({ status: 'pending', processing_ms: null, finished_at: null }),
    task({ finished_at: new Date(NOW - 3_600_000).toISOString() }), // outside the 10-minute window
  ];
  const s = summariseTasks(tasks, NOW);
  expect(s.processing.p50_ms).toBe(109);
  expect(s.processing.p95_ms).toBe(118);
  // Means use every recent completed task (21), the timeline only the last 10 minutes.
  expect(s.processing.per_filter_mean_ms).toEqual({ blur: 14.3, sharpen: 50 });
  expect(s.failures_by_reason).toEqual({ 'job_failure/worker_capability_mismatch': 1, 'worker_failure/max_deliveries_exceeded': 1 });
  const pts = s.timeline.points;
  expect(pts).toHaveLength(40);
  expect(pts.reduce((a, p) => a + p.completed, 0)).toBe(20);
  expect(pts.reduce((a, p) => a + p.failed, 0)).toBe(2);
  // The last bucket is the current, still-filling one (it starts at NOW); 5 s ago is the one before.
  expect(pts[pts.length - 2].failed).toBe(2);
});

test('an empty history gives nulls, not zeros', () => {
  const s = summariseTasks([], NOW);
  expect(s.processing).toMatchObject({ p50_ms: null, p95_ms: null, samples: [] });
});

test('log buckets fold into cumulative Prometheus buckets ending in +Inf = count', () => {
  const hash: Record<string, string> = { count: '4', sum: '1350' };
  for (const ms of [3, 40, 300, 1007]) hash[String(bucketIndex(ms))] = String(Number(hash[String(bucketIndex(ms))] ?? 0) + 1);
  const samples = histogramSamples('x', { route: 'r' }, hash);
  const le = (v: string) => samples.find((s) => s.labels.le === v)!.value;
  expect(le('0.005')).toBe(1);
  expect(le('0.05')).toBe(2);
  expect(le('0.5')).toBe(3);
  expect(le('2.5')).toBe(4);
  expect(le('+Inf')).toBe(4);
  expect(samples.find((s) => s.metricName === 'x_sum')!.value).toBeCloseTo(1.35);
});
