/**
 * Log-spaced latency buckets (each 20% wider than the last, 0.5 ms to ~2 min) so that many
 * processes can add into one Redis hash with HINCRBY and still read percentiles within ±10%.
 */
const BASE_MS = 0.5;
const GROWTH = 1.2;
export const BUCKET_COUNT = 70;

export function bucketIndex(ms: number): number {
  if (!(ms > BASE_MS)) return 0;
  return Math.min(BUCKET_COUNT - 1, Math.ceil(Math.log(ms / BASE_MS) / Math.log(GROWTH)));
}

export function bucketUpperBound(i: number): number {
  return BASE_MS * GROWTH ** i;
}

/** Percentile (0..100) from bucket counts, interpolating linearly inside the bucket. */
export function percentile(counts: ReadonlyMap<number, number>, p: number): number | null {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = (p / 100) * total;
  let seen = 0;
  for (const i of [...counts.keys()].sort((a, b) => a - b)) {
    const c = counts.get(i)!;
    if (c <= 0) continue;
    if (seen + c >= rank) {
      const lo = i === 0 ? 0 : bucketUpperBound(i - 1);
      const hi = bucketUpperBound(i);
      return lo + ((rank - seen) / c) * (hi - lo);
    }
    seen += c;
  }
  return bucketUpperBound(Math.max(...counts.keys()));
}
