import { retryDelayS } from '../../lib/worker/consume';

test('retry delay doubles per attempt, with jitter between half and all of it', () => {
  expect([1, 2, 3, 4, 5].map((a) => retryDelayS(a, 360, () => 1))).toEqual([1, 2, 4, 8, 16]);
  expect([1, 2, 3, 4, 5].map((a) => retryDelayS(a, 360, () => 0))).toEqual([1, 1, 2, 4, 8]);
});

test('never longer than 60 s or than the visibility timeout', () => {
  expect(retryDelayS(20, 360, () => 1)).toBe(60);
  expect(retryDelayS(20, 5, () => 1)).toBe(5);
});

test('jitter spreads retries of the same attempt', () => {
  const delays = new Set(Array.from({ length: 200 }, () => retryDelayS(6, 360)));
  expect(delays.size).toBeGreaterThan(5);
  for (const d of delays) {
    expect(d).toBeGreaterThanOrEqual(16);
    expect(d).toBeLessThanOrEqual(32);
  }
});
