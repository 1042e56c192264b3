/**
 * npm start's log has one line per request, the API's own (method, path, status, ms);
 * serverless-offline's four lines per request (two blank, the route, the Lambda duration)
 * are off unless SLS_LOG_LEVEL asks for them.
 */
import { startStack, type RunningStack } from '../helpers/stack';
import { getJson } from '../helpers/shared-stack';
import { waitFor } from '../../scripts/local/processes';

const OFFLINE_ROUTE_LINE = /\[api\] GET \/api\/health\/? \(λ: /;
const OFFLINE_DURATION_LINE = /\[api\].*\(λ: [^)]+\) RequestId: .* Duration: /;

const stacks: RunningStack[] = [];
afterAll(() => Promise.all(stacks.map((s) => s.stop())));

async function requestAndRead(stack: RunningStack): Promise<string> {
  const before = stack.output().length;
  expect((await getJson(`${stack.url}/api/health/`)).status).toBe(200);
  // The API's own request line is the last thing a request prints.
  return waitFor('request line', 10_000, async () => {
    const out = stack.output().slice(before);
    return /"path":"\/api\/health\/?"/.test(out) ? out : undefined;
  }, 50);
}

test('by default a request prints the API\'s own line and none of serverless-offline\'s', async () => {
  const stack = await startStack({ LOG_LEVEL: 'info' }, 'request-log-default');
  stacks.push(stack);
  const out = await requestAndRead(stack);
  expect(out).toMatch(/"msg":"request".*"method":"GET".*"status":200/);
  expect(out).not.toMatch(OFFLINE_ROUTE_LINE);
  expect(out).not.toMatch(OFFLINE_DURATION_LINE);
}, 120_000);

test('SLS_LOG_LEVEL=notice brings serverless-offline\'s lines back', async () => {
  const stack = await startStack({ LOG_LEVEL: 'info', SLS_LOG_LEVEL: 'notice' }, 'request-log-notice');
  stacks.push(stack);
  const out = await requestAndRead(stack);
  expect(out).toMatch(OFFLINE_ROUTE_LINE);
  await waitFor('duration line', 10_000, async () => (OFFLINE_DURATION_LINE.test(stack.output()) ? true : undefined), 50);
}, 120_000);
