// A job submitted with notify_url, on the real npm start path: a receiver that answers 500
// twice then 200 receives every event of the job, in seq order, each signed; the deliveries
// list shows the failed attempts. A malformed notify_url is refused before anything is enqueued.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature } from '../../lib/jobs/webhook-signature';
import { waitFor } from '../../scripts/local/processes';
import { postJson } from '../helpers/batch';
import { getJson } from '../helpers/shared-stack';
import { scenarioStack } from '../helpers/workers';

const SECRET = 'job-webhook-test-secret-0123456789';
const scenario = scenarioStack('job-webhook', { POLL_WAIT_S: '1', WEBHOOK_SECRET: SECRET, WEBHOOK_RETRY_SCHEDULE: '0.2,0.2,0.2,0.2' }, ['worker-3']);

let server: http.Server;
let receiverUrl: string;
const received: { headers: http.IncomingHttpHeaders; body: string; answered: number }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const answered = received.length < 2 ? 500 : 200;
      received.push({ headers: req.headers, body, answered });
      res.writeHead(answered).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('every event of a job reaches the receiver in seq order, signed, after two failed attempts', async () => {
  const url = scenario.stack.url;
  const res = await postJson(`${url}/api/process-batch/distributed/`, { filters: ['blur'], images: ['misurina-sunset.jpg', 'sample_4k.jpg'], notify_url: receiverUrl });
  expect(res.status).toBe(202);
  const { job_id } = res.body;
  const delivered = () => received.filter((r) => r.answered === 200).map((r) => JSON.parse(r.body));
  await waitFor('the job.completed webhook', 60_000, async () => (delivered().some((e) => e.type === 'job.completed') ? true : undefined), 100);
  const events = delivered();
  const log = (await getJson(`${url}/api/jobs/${job_id}/events/?limit=500`)).body.events;
  expect(events).toEqual(log);
  expect(events.map((e) => e.seq)).toEqual(log.map((_: unknown, i: number) => i + 1));
  expect((await getJson(`${url}/api/jobs/${job_id}/`)).body.notify_url).toBe(receiverUrl);
  for (const r of received) {
    const event = JSON.parse(r.body);
    expect(r.headers['x-pipeline-event']).toBe(event.type);
    expect(r.headers['x-pipeline-delivery']).toBe(`${job_id}:${event.seq}`);
    expect(verifyWebhookSignature(SECRET, r.headers['x-pipeline-signature'] as string, r.body)).toMatchObject({ ok: true });
  }
  // The first event failed twice, then went through: the same delivery id each time.
  expect(received.slice(0, 3).map((r) => [JSON.parse(r.body).seq, r.answered])).toEqual([[1, 500], [1, 500], [1, 200]]);
  const deliveries = (await getJson(`${url}/api/jobs/${job_id}/deliveries/`)).body;
  expect(deliveries.deliveries.slice(0, 3).map((d: any) => [d.seq, d.status_code, d.outcome])).toEqual([
    [1, 500, 'retrying'],
    [1, 500, 'retrying'],
    [1, 200, 'delivered'],
  ]);
  expect(deliveries.failed_seqs).toEqual([]);
}, 90_000);

test.each([
  ['ftp', 'ftp://example.com/hook', 'notify_url must use http or https'],
  ['2,100 characters', `http://example.com/${'a'.repeat(2100)}`, 'notify_url must be at most 2048 characters'],
  ['a number', 42, 'notify_url must be an http:// or https:// URL string'],
])('a notify_url of %s is refused with a 400 naming it, and no job is made', async (_label, notify_url, message) => {
  const url = scenario.stack.url;
  const before = (await getJson(`${url}/api/jobs/?limit=1`)).body.jobs[0]?.job_id;
  const res = await postJson(`${url}/api/process-batch/distributed/`, { filters: ['blur'], notify_url });
  expect(res.status).toBe(400);
  expect(res.body.error.field).toBe('notify_url');
  expect(res.body.error.message).toContain(message);
  expect((await getJson(`${url}/api/jobs/?limit=1`)).body.jobs[0]?.job_id).toBe(before);
});
