import { bucketIndex, bucketUpperBound, percentile } from '../../lib/core/histogram';

test('bucket bounds grow monotonically and contain their values', () => {
  for (const ms of [0.1, 0.5, 0.7, 3, 42, 999, 25_000]) {
    const i = bucketIndex(ms);
    expect(bucketUpperBound(i)).toBeGreaterThanOrEqual(ms);
    if (i > 0) expect(bucketUpperBound(i - 1)).toBeLessThan(ms);
  }
});

test('percentiles from buckets are within 20% of the exact ones', () => {
  const samples = Array.from({ length: 1000 }, (_, i) => 1 + (i % 100) * 3.7);
  const counts = new Map<number, number>();
  for (const s of samples) counts.set(bucketIndex(s), (counts.get(bucketIndex(s)) ?? 0) + 1);
  const sorted = [...samples].sort((a, b) => a - b);
  for (const p of [50, 95, 99]) {
    const exact = sorted[Math.ceil((p / 100) * sorted.length) - 1];
    const est = percentile(counts, p)!;
    expect(Math.abs(est - exact) / exact).toBeLessThan(0.2);
  }
});

test('no samples gives null, not zero', () => {
  expect(percentile(new Map(), 50)).toBeNull();
});
