// Job webhooks end to end: a stack of this file's own (npm start's sender loop, its generated
// signing secret, a short retry schedule), jobs written into its Redis the way the job store
// writes them (the job hash with notify_url, then appendJobEvent), and real receivers: node
// http servers on this machine that answer what each test tells them to.
import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createClients, type Clients } from '../../lib/core/clients';
import { loadConfig } from '../../lib/core/config';
import { ValidationError } from '../../lib/core/errors';
import { appendJobEvent, jobKey, webhookDueKey, type JobEventType } from '../../lib/jobs/events';
import { verifyWebhookSignature } from '../../lib/jobs/webhook-signature';
import { checkNotifyUrl, listDeliveries, redeliverFailed, runScheduledSender, WebhookSender, wakeWebhookSender } from '../../lib/jobs/webhooks';
import { stackEnv } from '../../scripts/local/harness';
import { waitFor } from '../../scripts/local/processes';
import { postJson } from '../helpers/batch';
import { getJson } from '../helpers/shared-stack';
import { ARTIFACTS, runId } from '../helpers/stack';
import { scenarioStack } from '../helpers/workers';

const SECRET_FILE = path.join(ARTIFACTS, 'state', `${runId()}-webhook-secret`);
const scenario = scenarioStack('webhooks', { WEBHOOK_RETRY_SCHEDULE: '0.2,0.2,0.2', WEBHOOK_TIMEOUT_MS: '1000', WEBHOOK_SECRET_FILE: SECRET_FILE });

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

/** A receiver: answers each request with `answer(n)` (n from 0), recording what it got. */
async function receiver(answer: (n: number, req: Received) => { status: number; headers?: Record<string, string> } | 'hang' = () => ({ status: 200 })) {
  const got: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), status: 0 };
      const a = answer(got.length, r);
      got.push(r);
      if (a === 'hang') return;
      r.status = a.status;
      res.writeHead(a.status, { 'content-type': 'text/plain', ...a.headers });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/pipeline`;
  return {
    url,
    got,
    setAnswer: (fn: typeof answer) => (answer = fn),
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

const receivers: { close: () => Promise<void> }[] = [];
async function newReceiver(...args: Parameters<typeof receiver>) {
  const r = await receiver(...args);
  receivers.push(r);
  return r;
}

let deps: Clients;
let secret: string;
beforeAll(() => {
  secret = readFileSync(SECRET_FILE, 'utf8').trim();
  // The stack's own settings, with the secret npm start handed its processes.
  deps = createClients(loadConfig({ ...stackEnv(scenario.stack), WEBHOOK_SECRET: secret }));
});
afterAll(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  deps?.redis.disconnect();
  rmSync(SECRET_FILE, { force: true });
});

/** A job as the job store writes it: its hash (with notify_url when given), then its events. */
async function createJob(on: Clients, notifyUrl: string | undefined, events: [JobEventType, string, string?][]): Promise<string> {
  const jobId = randomUUID();
  await on.redis.hset(jobKey(on, jobId), { job_id: jobId, status: 'queued', created_at: new Date().toISOString(), ...(notifyUrl ? { notify_url: notifyUrl } : {}) });
  await on.redis.expire(jobKey(on, jobId), 3600);
  await appendEvents(on, jobId, events);
  return jobId;
}

async function appendEvents(on: Clients, jobId: string, events: [JobEventType, string, string?][]) {
  for (const [type, status, taskId] of events) await appendJobEvent(on, { type, job_id: jobId, status, ...(taskId ? { task_id: taskId } : {}) });
}

const deliveriesOf = async (jobId: string) => {
  const res = await getJson(`${scenario.stack.url}/api/jobs/${jobId}/deliveries/`);
  expect(res.status).toBe(200);
  return res.body;
};

test('npm start generated the signing secret into WEBHOOK_SECRET_FILE, private, and says where it is (not what it is)', () => {
  expect(secret).toMatch(/^whsec_/);
  expect(scenario.stack.output()).toContain(`signing secret: ${SECRET_FILE} (generated now, mode 0600`);
  expect(scenario.stack.output()).not.toContain(secret);
});

test('a receiver that answers 500 twice, then 200, gets every event in seq order, signed, with stable delivery ids', async () => {
  const rx = await newReceiver((n) => ({ status: n < 2 ? 500 : 200 }));
  const task = randomUUID();
  const jobId = await createJob(deps, rx.url, [['job.created', 'queued'], ['job.running', 'running']]);
  // More events while the first is still being retried: they wait behind it.
  await appendEvents(deps, jobId, [['task.processing', 'processing', task], ['task.completed', 'completed', task], ['job.completed', 'completed']]);

  await waitFor('all 5 events delivered', 20_000, async () => (rx.got.filter((r) => r.status === 200).length >= 5 ? true : undefined), 50);
  expect(rx.got).toHaveLength(7);
  const bodies = rx.got.map((r) => JSON.parse(r.body));
  expect(bodies.map((b) => b.seq)).toEqual([1, 1, 1, 2, 3, 4, 5]);
  expect(bodies.filter((_, i) => rx.got[i].status === 200).map((b) => b.type)).toEqual(['job.created', 'job.running', 'task.processing', 'task.completed', 'job.completed']);
  for (const [i, r] of rx.got.entries()) {
    const body = bodies[i];
    expect(body).toMatchObject({ job_id: jobId, seq: expect.any(Number), at: expect.any(String) });
    expect(verifyWebhookSignature(secret, r.headers['x-pipeline-signature'] as string, r.body)).toMatchObject({ ok: true });
    expect(r.headers['x-pipeline-event']).toBe(body.type);
    expect(r.headers['x-pipeline-delivery']).toBe(`${jobId}:${body.seq}`);
    expect(r.headers['content-type']).toBe('application/json');
  }
  expect(rx.got.slice(0, 3).map((r) => r.headers['x-pipeline-attempt'])).toEqual(['1', '2', '3']);
  // Signed with this stack's secret only.
  expect(verifyWebhookSignature('whsec_some-other-secret-000000', rx.got[0].headers['x-pipeline-signature'] as string, rx.got[0].body)).toMatchObject({ ok: false, reason: 'mismatch' });

  const view = await waitFor('the last attempt recorded', 5000, async () => {
    const v = await deliveriesOf(jobId);
    return v.total === 7 ? v : undefined;
  });
  expect(view).toMatchObject({ job_id: jobId, notify_url: rx.url, cursor_seq: 5, failed_seqs: [], next_attempt_at: null });
  expect(view.deliveries.map((d: any) => [d.seq, d.attempt, d.status_code, d.outcome])).toEqual([
    [1, 1, 500, 'retrying'],
    [1, 2, 500, 'retrying'],
    [1, 3, 200, 'delivered'],
    [2, 1, 200, 'delivered'],
    [3, 1, 200, 'delivered'],
    [4, 1, 200, 'delivered'],
    [5, 1, 200, 'delivered'],
  ]);
  expect(view.deliveries[0]).toMatchObject({ delivery_id: `${jobId}:1`, type: 'job.created', error: 'HTTP 500', next_attempt_at: expect.any(String), ms: expect.any(Number), at: expect.any(String) });
  // The retry waited its 0.2 s.
  expect(Date.parse(view.deliveries[1].at) - Date.parse(view.deliveries[0].at)).toBeGreaterThanOrEqual(190);
  expect(view.deliveries[2].error).toBeNull();

  // Caught up: the job leaves the due set; a new event brings it back and goes out.
  expect(await deps.redis.zscore(webhookDueKey(deps), jobId)).toBeNull();
  await appendEvents(deps, jobId, [['task.failed', 'failed', task]]);
  await waitFor('the late event', 5000, async () => (rx.got.length === 8 ? true : undefined), 50);
  expect(JSON.parse(rx.got[7].body)).toMatchObject({ seq: 6, type: 'task.failed' });
}, 60_000);

test('a receiver that always fails ends with failed deliveries; once it recovers, redeliver resends them in seq order', async () => {
  const rx = await newReceiver(() => ({ status: 503 }));
  const jobId = await createJob(deps, rx.url, [['job.created', 'queued'], ['job.running', 'running'], ['job.failed', 'failed']]);
  // The first event: 4 attempts (1 + the 3 retries of the schedule), then failed. The receiver
  // now counts as down: each later event gets one attempt until a delivery succeeds.
  const view = await waitFor('all three events failed', 20_000, async () => {
    const v = await deliveriesOf(jobId);
    return v.failed_seqs.length === 3 ? v : undefined;
  });
  expect(rx.got.map((r) => JSON.parse(r.body).seq)).toEqual([1, 1, 1, 1, 2, 3]);
  expect(view.deliveries.map((d: any) => `${d.seq}/${d.attempt}/${d.status_code}/${d.outcome}`)).toEqual([
    '1/1/503/retrying', '1/2/503/retrying', '1/3/503/retrying', '1/4/503/failed',
    '2/1/503/failed',
    '3/1/503/failed',
  ]);
  expect(view).toMatchObject({ cursor_seq: 3, receiver_down: true, failed_seqs: [1, 2, 3] });

  rx.setAnswer(() => ({ status: 204 }));
  const redeliver = await postJson(`${scenario.stack.url}/api/jobs/${jobId}/deliveries/redeliver/`, {});
  expect(redeliver.status).toBe(202);
  expect(redeliver.body).toMatchObject({ job_id: jobId, queued_seqs: [1, 2, 3], deliveries_url: expect.stringContaining(`/api/jobs/${jobId}/deliveries/`) });
  const after = await waitFor('all redelivered', 10_000, async () => {
    const v = await deliveriesOf(jobId);
    return v.failed_seqs.length === 0 && v.total === 9 ? v : undefined;
  });
  expect(rx.got.slice(6).map((r) => [JSON.parse(r.body).seq, r.headers['x-pipeline-delivery'], r.headers['x-pipeline-attempt']])).toEqual([
    [1, `${jobId}:1`, '5'],
    [2, `${jobId}:2`, '2'],
    [3, `${jobId}:3`, '2'],
  ]);
  for (const r of rx.got.slice(6)) expect(verifyWebhookSignature(secret, r.headers['x-pipeline-signature'] as string, r.body)).toMatchObject({ ok: true });
  expect(after.deliveries.slice(6)).toEqual([
    expect.objectContaining({ seq: 1, attempt: 5, status_code: 204, outcome: 'delivered', redelivery: true }),
    expect.objectContaining({ seq: 2, attempt: 2, status_code: 204, outcome: 'delivered', redelivery: true }),
    expect.objectContaining({ seq: 3, attempt: 2, status_code: 204, outcome: 'delivered', redelivery: true }),
  ]);
  expect(after.receiver_down).toBe(false);
  // Nothing left to resend.
  const again = await postJson(`${scenario.stack.url}/api/jobs/${jobId}/deliveries/redeliver/`, {});
  expect(again.status).toBe(200);
  expect(again.body.queued_seqs).toEqual([]);

  // Up again: a new event's failure is retried on the schedule once more.
  const base = rx.got.length;
  rx.setAnswer((n) => ({ status: n === base ? 500 : 204 }));
  await appendEvents(deps, jobId, [['job.completed', 'completed']]);
  const last = await waitFor('the new event delivered', 10_000, async () => {
    const v = await deliveriesOf(jobId);
    return v.total === 11 ? v : undefined;
  });
  expect(last.deliveries.slice(9).map((d: any) => `${d.seq}/${d.attempt}/${d.status_code}/${d.outcome}`)).toEqual(['4/1/500/retrying', '4/2/204/delivered']);
}, 60_000);

test('a 302 is not followed: the redirect target never hears of it, and the attempt is a failure', async () => {
  const target = await newReceiver();
  const rx = await newReceiver(() => ({ status: 302, headers: { location: target.url } }));
  const jobId = await createJob(deps, rx.url, [['job.created', 'queued']]);
  const view = await waitFor('failed after redirects', 15_000, async () => {
    const v = await deliveriesOf(jobId);
    return v.failed_seqs.length === 1 ? v : undefined;
  });
  expect(rx.got).toHaveLength(4);
  expect(target.got).toHaveLength(0);
  expect(view.deliveries[3]).toMatchObject({ status_code: 302, outcome: 'failed', error: expect.stringMatching(/^redirect not followed \(HTTP 302, Location: http:\/\/127\.0\.0\.1:\d+\/hooks\/pipeline\)/) });
}, 30_000);

test('a receiver that does not answer within WEBHOOK_TIMEOUT_MS is a failed attempt without a status', async () => {
  const rx = await newReceiver((n) => (n === 0 ? 'hang' : { status: 200 }));
  const jobId = await createJob(deps, rx.url, [['job.created', 'queued']]);
  const view = await waitFor('delivered after the timeout', 10_000, async () => {
    const v = await deliveriesOf(jobId);
    return v.deliveries.some((d: any) => d.outcome === 'delivered') ? v : undefined;
  });
  expect(view.deliveries[0]).toMatchObject({ attempt: 1, status_code: null, outcome: 'retrying', error: 'timed out after 1000 ms' });
  expect(view.deliveries[0].ms).toBeGreaterThanOrEqual(990);
  expect(view.deliveries[1]).toMatchObject({ attempt: 2, status_code: 200, outcome: 'delivered' });
}, 30_000);

test('deliveries and redeliver: a malformed job id is a 400 naming job_id, an unknown job a 404, a job without notify_url has nothing to resend', async () => {
  const bad = await getJson(`${scenario.stack.url}/api/jobs/not-a-uuid/deliveries/`);
  expect(bad.status).toBe(400);
  expect(bad.body.error).toMatchObject({ code: 'validation_error', field: 'job_id' });
  const badPost = await postJson(`${scenario.stack.url}/api/jobs/NOT-A-UUID/deliveries/redeliver/`, {});
  expect(badPost.status).toBe(400);
  expect(badPost.body.error.field).toBe('job_id');

  const unknown = randomUUID();
  const missing = await getJson(`${scenario.stack.url}/api/jobs/${unknown}/deliveries/`);
  expect(missing.status).toBe(404);
  expect(missing.body.error).toMatchObject({ code: 'not_found', message: expect.stringContaining(unknown) });
  expect((await postJson(`${scenario.stack.url}/api/jobs/${unknown}/deliveries/redeliver/`, {})).status).toBe(404);

  const plain = await createJob(deps, undefined, [['job.created', 'queued']]);
  expect(await deliveriesOf(plain)).toMatchObject({ notify_url: null, total: 0, deliveries: [] });
  const none = await postJson(`${scenario.stack.url}/api/jobs/${plain}/deliveries/redeliver/`, {});
  expect(none.status).toBe(422);
  expect(none.body.error.field).toBe('notify_url');
  expect((await postJson(`${scenario.stack.url}/api/jobs/${plain}/deliveries/redeliver/`, { force: true })).body.error.field).toBe('body');

  const page = await getJson(`${scenario.stack.url}/api/jobs/${plain}/deliveries/?limit=5000`);
  expect(page.status).toBe(400);
  expect(page.body.error).toMatchObject({ field: 'limit', min: 1, max: 1000 });
}, 30_000);

describe('senders of this process, on a Redis prefix of their own', () => {
  let own: Clients;
  beforeAll(() => {
    own = createClients(loadConfig({ ...stackEnv(scenario.stack), REDIS_PREFIX: `${scenario.stack.env.REDIS_PREFIX}-own`, WEBHOOK_SECRET: secret, WEBHOOK_RETRY_SCHEDULE: '0.1', WEBHOOK_ALLOW_PRIVATE: 'false' }));
  });
  afterAll(() => own?.redis.disconnect());

  test('with WEBHOOK_ALLOW_PRIVATE=false, the metadata address and loopback are refused at submission and at delivery', async () => {
    const rx = await newReceiver();
    for (const url of ['http://169.254.169.254/', rx.url, 'http://localhost:9/']) {
      const e = await checkNotifyUrl(own.config, url).then(() => undefined, (err: unknown) => err);
      expect(e).toBeInstanceOf(ValidationError);
      expect(e).toMatchObject({ status: 400, field: 'notify_url' });
    }
    expect((await checkNotifyUrl(own.config, 'http://169.254.169.254/').catch((e) => e)).message).toMatch(/169\.254\.169\.254, a metadata address/);
    // The same stack, allowing private addresses (its default locally), takes the receiver.
    expect(await checkNotifyUrl(deps.config, rx.url)).toBe(rx.url);

    // A notify_url stored anyway (or one whose name now resolves elsewhere) is checked again per attempt.
    const jobId = await createJob(own, rx.url, [['job.created', 'queued']]);
    const sender = new WebhookSender(own);
    await waitFor('refused twice', 10_000, async () => {
      await sender.poll();
      const v = await listDeliveries(own, jobId);
      return v.failed_seqs.length === 1 ? v : undefined;
    }, 50);
    await sender.close();
    const v = await listDeliveries(own, jobId);
    expect(v.deliveries).toHaveLength(2);
    for (const d of v.deliveries) expect(d).toMatchObject({ status_code: null, error: expect.stringMatching(/is 127\.0\.0\.1, a loopback address that webhooks may not reach/) });
    expect(rx.got).toHaveLength(0);
  }, 30_000);

  test('senders racing on the same jobs deliver each event once, in order (the per-job lock)', async () => {
    const open = createClients(loadConfig({ ...stackEnv(scenario.stack), REDIS_PREFIX: `${scenario.stack.env.REDIS_PREFIX}-race`, WEBHOOK_SECRET: secret }));
    try {
      const rx = await newReceiver();
      const jobs = await Promise.all(
        Array.from({ length: 3 }, () => createJob(open, rx.url, Array.from({ length: 15 }, (_, i) => ['task.completed', 'completed', `t${i}`] as [JobEventType, string, string]))),
      );
      const senders = [new WebhookSender(open), new WebhookSender(open), new WebhookSender(open)];
      await waitFor('45 deliveries', 20_000, async () => {
        await Promise.all(senders.map((s) => s.poll()));
        return rx.got.length >= 45 ? true : undefined;
      }, 20);
      // The receiver can hold the 45th request before its sender has read the answer: close()
      // would cut that attempt off unrecorded, so let the attempts under way finish first.
      await Promise.all(senders.map((s) => s.drain()));
      await Promise.all(senders.map((s) => s.close()));
      expect(rx.got).toHaveLength(45);
      for (const jobId of jobs) {
        expect(rx.got.map((r) => JSON.parse(r.body)).filter((b) => b.job_id === jobId).map((b) => b.seq)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
      }
      expect(senders.map((s) => s.stats.delivered).reduce((a, b) => a + b)).toBe(45);
    } finally {
      open.redis.disconnect();
    }
  }, 30_000);

  test('the scheduled run (aws): ends at once when idle; with work, retries within its time, then ends after lingering', async () => {
    const sched = createClients(loadConfig({ ...stackEnv(scenario.stack), REDIS_PREFIX: `${scenario.stack.env.REDIS_PREFIX}-sched`, WEBHOOK_SECRET: secret, WEBHOOK_RETRY_SCHEDULE: '0.3' }));
    try {
      const idle = await runScheduledSender(sched, { until: Date.now() + 10_000, lingerMs: 500, intervalMs: 100 });
      expect(idle).toMatchObject({ attempts: 0, delivered: 0 });
      expect(idle.ran_ms).toBeLessThan(1000);

      const rx = await newReceiver((n) => ({ status: n === 0 ? 500 : 200 }));
      await createJob(sched, rx.url, [['job.created', 'queued'], ['job.completed', 'completed']]);
      const busy = await runScheduledSender(sched, { until: Date.now() + 10_000, lingerMs: 500, intervalMs: 100 });
      expect(busy).toMatchObject({ attempts: 3, delivered: 2, failed: 0 });
      expect(rx.got.map((r) => JSON.parse(r.body).seq)).toEqual([1, 1, 2]);
      // It waited for the 0.3 s retry, then lingered 0.5 s, and did not poll on to its deadline.
      expect(busy.ran_ms).toBeGreaterThanOrEqual(700);
      expect(busy.ran_ms).toBeLessThan(5000);
    } finally {
      sched.redis.disconnect();
    }
  }, 30_000);

  test('aws: redeliver invokes the sender function asynchronously, unless a scheduled run is polling', async () => {
    const calls: { path: string; type: unknown }[] = [];
    const lambda = createServer((req, res) => {
      calls.push({ path: req.url ?? '', type: req.headers['x-amz-invocation-type'] });
      req.resume();
      req.on('end', () => res.writeHead(202, { 'content-type': 'application/json' }).end());
    });
    await new Promise<void>((resolve) => lambda.listen(0, '127.0.0.1', resolve));
    const woken = createClients(
      loadConfig({
        ...stackEnv(scenario.stack),
        REDIS_PREFIX: `${scenario.stack.env.REDIS_PREFIX}-wake`,
        WEBHOOK_SECRET: secret,
        WEBHOOK_SENDER_FUNCTION: 'image-pipeline-aws-webhookSender',
        LAMBDA_ENDPOINT_URL: `http://127.0.0.1:${(lambda.address() as AddressInfo).port}`,
      }),
    );
    try {
      const rx = await newReceiver(() => ({ status: 500 }));
      const jobId = await createJob(woken, rx.url, [['job.created', 'queued']]);
      await woken.redis.zadd(woken.key('job', jobId, 'webhook-failed'), 1, '1');
      const queued = await redeliverFailed(woken, jobId);
      expect(queued.queued_seqs).toEqual([1]);
      expect(calls).toEqual([{ path: '/2015-03-31/functions/image-pipeline-aws-webhookSender/invocations', type: 'Event' }]);
      // While a run polls (it keeps this key fresh), nothing is invoked.
      await woken.redis.set(woken.key('webhooks', 'sender-alive'), '1', 'PX', 5000);
      expect(await wakeWebhookSender(woken)).toBe(false);
      expect(calls).toHaveLength(1);
      // Without WEBHOOK_SENDER_FUNCTION (local stages) there is nothing to wake.
      expect(await wakeWebhookSender(deps)).toBe(false);
    } finally {
      woken.redis.disconnect();
      await new Promise<void>((resolve) => lambda.close(() => resolve()));
    }
  }, 30_000);
});
