// The acceptance run: `API_KEYS=k1 RATE_LIMIT_PER_MINUTE=5 npm start` answers 401 without
// the key, 202 with it, and 429 with Retry-After past the limit.
import { startStack, type RunningStack } from '../helpers/stack';

let stack: RunningStack;
beforeAll(async () => {
  stack = await startStack({ API_KEYS: 'k1', RATE_LIMIT_PER_MINUTE: '5' }, 'rate-limit');
}, 120_000);
afterAll(() => stack?.stop());

const submit = (headers: Record<string, string> = {}) =>
  fetch(`${stack.url}/api/process-batch/distributed/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ filters: ['blur'] }),
  });

const minute = () => Math.floor(Date.now() / 60_000);

test('401 without the key, 202 with it, 429 with Retry-After past 5 per minute', async () => {
  const anonymous = await submit();
  expect(anonymous.status).toBe(401);
  expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);

  // The window is a calendar minute; a run that straddles its edge is repeated once.
  for (let attempt = 0; attempt < 2; attempt++) {
    const started = minute();
    const statuses: number[] = [];
    let limited: Response | undefined;
    for (let i = 0; i < 6; i++) {
      const res = await submit({ authorization: 'Bearer k1' });
      statuses.push(res.status);
      if (res.status === 429) limited = res;
      else await res.arrayBuffer();
    }
    if (minute() !== started) continue;
    if (attempt === 0) {
      // Counts from earlier in this minute (the first attempt starts fresh) are none.
      expect(statuses).toEqual([202, 202, 202, 202, 202, 429]);
    } else {
      expect(statuses.slice(0, 5).every((s) => s === 202)).toBe(true);
      expect(statuses[5]).toBe(429);
    }
    const retryAfter = Number(limited!.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const body = await limited!.json();
    expect(body.error).toMatchObject({ code: 'rate_limited', retry_after_s: retryAfter });
    // The unauthenticated request was refused before it could spend the key's budget;
    // a wrong key does not spend it either and still gets 401, not 429.
    expect((await submit({ authorization: 'Bearer k2' })).status).toBe(401);
    return;
  }
  throw new Error('two runs straddled a minute edge');
});
