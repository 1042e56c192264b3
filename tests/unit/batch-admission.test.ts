import { createAdmission } from '../../lib/batch/admission';
import { OverloadedError, PayloadTooLargeError } from '../../lib/core/errors';

test('work within the budget is admitted at once; more waits for a release, in order', async () => {
  const a = createAdmission(100);
  const r1 = await a.acquire(60, 1000);
  const order: string[] = [];
  const second = a.acquire(50, 1000).then((r) => (order.push('second'), r));
  const third = a.acquire(40, 1000).then((r) => (order.push('third'), r));
  await new Promise((r) => setTimeout(r, 20));
  expect(order).toEqual([]);
  expect(a.inUse()).toBe(60);
  r1();
  r1(); // a second release is a no-op, not a double credit
  const [r2, r3] = await Promise.all([second, third]);
  expect(order).toEqual(['second', 'third']);
  expect(a.inUse()).toBe(90);
  r2();
  r3();
  expect(a.inUse()).toBe(0);
});

test('a waiter past its wait is refused with Retry-After and leaves the line', async () => {
  const a = createAdmission(100);
  const held = await a.acquire(100, 0);
  const err = await a.acquire(1, 30).catch((e) => e);
  expect(err).toBeInstanceOf(OverloadedError);
  expect(err.retryAfterS).toBeGreaterThanOrEqual(1);
  expect(err.message).toContain('BATCH_PIXEL_BUDGET');
  held();
  expect(a.inUse()).toBe(0);
  (await a.acquire(100, 0))();
});

test('a request larger than the whole budget is a 413 naming the limit', async () => {
  const err = await createAdmission(100).acquire(101, 1000).catch((e) => e);
  expect(err).toBeInstanceOf(PayloadTooLargeError);
  expect(err.details).toMatchObject({ pixels: 101, budget: 100 });
});
