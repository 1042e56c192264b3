// Worker status on Lambda: a worker function is alive while its SQS event-source mapping is
// enabled. The mapping logic as a pure function, then the real SDK call against a small HTTP
// server that answers Lambda's ListEventSourceMappings REST shape, with counts from real Redis.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { closeClients, createClients, type Clients } from '../../lib/core/clients';
import { loadConfig } from '../../lib/core/config';
import { eventSourceMappingLiveness, listWorkerViews, mappingStates, verdictFromMappings } from '../../lib/worker/liveness';
import { outcomeCounter, registerWorker, resolveIdentity } from '../../lib/worker/registry';
import { claimTask, createTasks, finishAttempt } from '../../lib/tasks/store';
import { taskStatus } from '../../lib/tasks/status';
import { randomUUID } from 'node:crypto';
import { runId } from '../helpers/stack';

test.each([
  [['Enabled'], true, 'running'],
  [['Enabling'], true, 'running'],
  [['Disabled', 'Enabled'], true, 'running'],
  [['Disabled'], false, 'stopped'],
  [['Disabling', 'Disabled'], false, 'stopped'],
  [['Creating'], false, 'offline'],
  [[], false, 'offline'],
])('mappings %j → alive %s (%s)', (states, alive, status) => {
  expect(verdictFromMappings(states)).toMatchObject({ alive, status });
});

// What `aws lambda update-event-source-mapping --uuid … --no-enabled` changes, per function.
const states: Record<string, string[]> = {};
const requests: string[] = [];
let server: Server;
let client: LambdaClient;
let deps: Clients;

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    requests.push(`${req.method} ${url.pathname}`);
    const fn = url.searchParams.get('FunctionName') ?? '';
    if (req.method !== 'GET' || !/^\/2015-03-31\/event-source-mappings\/?$/.test(url.pathname) || !(fn in states)) {
      res.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException' });
      res.end(JSON.stringify({ Type: 'User', Message: `Function not found: ${fn}` }));
      return;
    }
    // Two pages, to exercise the marker.
    const all = states[fn].map((State, i) => ({ UUID: `${fn}-${i}`, FunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${fn}`, EventSourceArn: `arn:aws:sqs:us-east-1:123456789012:q${i}.fifo`, State, BatchSize: 1, LastModified: 1764370000 }));
    const page = url.searchParams.get('Marker') === 'p2' ? all.slice(1) : all.slice(0, 1);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ EventSourceMappings: page, ...(url.searchParams.get('Marker') !== 'p2' && all.length > 1 ? { NextMarker: 'p2' } : {}) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  client = new LambdaClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  deps = createClients(
    loadConfig({
      STAGE: 'aws',
      REDIS_PREFIX: runId(),
      WORKER_FUNCTIONS: 'worker-1=pipe-worker1,worker-2=pipe-worker2,worker-3=pipe-worker3',
      LAMBDA_ENDPOINT_URL: endpoint,
    }),
  );
});

afterAll(async () => {
  await deps.redis.del(...(await deps.redis.keys(`${deps.config.redis.prefix}:*`)), 'none');
  await closeClients(deps);
  client.destroy();
  server.close();
});

test('the SDK call pages through every mapping of a function', async () => {
  states['pipe-worker1'] = ['Disabled', 'Enabled'];
  expect(await mappingStates(client, 'pipe-worker1')).toEqual(['Disabled', 'Enabled']);
  // The API documents a trailing slash; SDK v3 sends the path without it.
  expect(requests).toEqual(['GET /2015-03-31/event-source-mappings', 'GET /2015-03-31/event-source-mappings']);
});

test('the aws stage defaults to event-source-mapping liveness', () => {
  expect(deps.config.workers.liveness).toBe('event-source-mapping');
  expect(loadConfig({}).workers.liveness).toBe('heartbeat');
});

test('idle workers never invoked are alive; a disabled mapping is stopped; counts come from Redis; no pids or hosts', async () => {
  states['pipe-worker1'] = ['Enabled'];
  states['pipe-worker2'] = ['Enabled'];
  states['pipe-worker3'] = ['Disabled'];
  // worker-1 ran once (cold start registers it) and processed two tasks; the others never ran.
  await registerWorker(deps, resolveIdentity('worker-1', undefined));
  // As consume records them: each outcome with the worker's counter, in one script.
  for (const [outcome, ms] of [['completed', 100], ['completed', 300], ['failed', undefined]] as const) {
    const taskId = randomUUID();
    await createTasks(deps, [{ task_id: taskId, batch_id: randomUUID(), image: 'sample_4k.jpg', steps: [{ name: 'sharpen', params: { strength: 1 } }] as never, queued_at: Date.now() }]);
    const { attempt } = await claimTask(deps, taskId, 'worker-1');
    const counter = outcomeCounter(deps, 'worker-1', outcome === 'completed' ? 'processed' : 'failed', ms);
    expect(await finishAttempt(deps, taskId, attempt, outcome, { status: outcome }, counter)).toBe(true);
  }
  const workers = await eventSourceMappingLiveness(client).list(deps);
  expect(workers.map((w) => [w.id, w.alive, w.status])).toEqual([
    ['worker-1', true, 'idle'],
    ['worker-2', true, 'idle'],
    ['worker-3', false, 'stopped'],
  ]);
  const w1 = workers[0] as (typeof workers)[0] & { last_invocation: string | null };
  expect(w1).toMatchObject({ processed: 2, failed: 1, mean_processing_ms: 200, pid: null, host: null });
  expect(Date.parse(w1.last_invocation!)).toBeGreaterThan(Date.now() - 60_000);
  expect(workers[1]).toMatchObject({ processed: 0, capabilities: ['sharpen', 'edges'], pid: null, host: null });
});

test('all mappings disabled: no worker is alive', async () => {
  for (const fn of ['pipe-worker1', 'pipe-worker2', 'pipe-worker3']) states[fn] = ['Disabled'];
  const workers = await eventSourceMappingLiveness(client).list(deps);
  expect(workers.filter((w) => w.alive)).toEqual([]);
});

test('the seed\'s "no workers" on AWS: all mappings disabled, a task waits pending with the seed\'s explanation', async () => {
  for (const fn of ['pipe-worker1', 'pipe-worker2', 'pipe-worker3']) states[fn] = ['Disabled'];
  const taskId = randomUUID();
  await createTasks(deps, [{ task_id: taskId, batch_id: randomUUID(), image: 'sample_4k.jpg', steps: [{ name: 'sharpen', params: { strength: 1 } }] as never, queued_at: Date.now() }]);
  expect(await taskStatus(deps, taskId, listWorkerViews)).toMatchObject({ status: 'pending', explanation: 'No workers available to process task' });
  // Re-enabling worker-3's mapping (the general-purpose class) makes it a normal wait.
  states['pipe-worker3'] = ['Enabled'];
  expect(await taskStatus(deps, taskId, listWorkerViews)).toMatchObject({ status: 'pending', explanation: 'Waiting in the queue for a worker' });
});

test('a Lambda API failure is a dependency error, not a silent "offline"', async () => {
  delete states['pipe-worker2'];
  await expect(eventSourceMappingLiveness(client).list(deps)).rejects.toMatchObject({ code: 'dependency_unavailable', details: { dependency: 'lambda' } });
});
