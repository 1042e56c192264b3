// Smoke test of what `sls deploy --stage aws` uploads: the stage is packaged,
// its one artifact unzipped into an empty temp dir, and functions are run from there, each in a
// fresh Node process (the Lambda runtime's Node major, when obtainable), with the environment the
// CloudFormation template gives it, resolved to a private embedded emulator, real Redis and a
// stand-in for the two AWS control-plane APIs the emulator lacks (SSM, Lambda mappings).
// What it catches that the source-level tests cannot: a module esbuild left external but the
// npm packager did not ship, native sharp or OpenCV.js not loading from the artifact, pool
// threads that cannot find their entry point in a bundle, an environment variable the template
// leaves unresolved or wrong.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import Redis from 'ioredis';
import sharp from 'sharp';
import { closeClients, createClients, type Clients } from '../../lib/core/clients';
import { loadConfig } from '../../lib/core/config';
import { appendJobEvent, jobKey } from '../../lib/jobs/events';
import { verifyWebhookSignature } from '../../lib/jobs/webhook-signature';
import { IMAGE_FILE } from '../../lib/images/source';
import { buildDashboard } from '../../scripts/build-dashboard';
import { freePort, startService, stopService, waitFor, type Service } from '../../scripts/local/processes';
import { provision, STATIC_DIR } from '../../scripts/local/resources';
import { privateRedis, type PrivateRedis } from '../helpers/redis-server';
import { runId } from '../helpers/stack';
import { invokeBundled, LAMBDA_NODE_MAJOR, lambdaNode, resolveEnvironment, ROOT, startFakeControlPlane, type FakeControlPlane, type InvocationReport, type NodeRuntime } from './support';

type Resource = { Type: string; Properties?: Record<string, any> };
type LambdaFunction = { logicalId: string; name: string; handler: string; memorySize: number; env: Record<string, unknown> };

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const API_KEYS_SECRET = `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/image-pipeline-bundle-test/api-keys`;
const KEYS = ['k1', 'k2'];
const WEBHOOK_SECRET_REF = `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/image-pipeline-bundle-test/webhook-secret`;
const WEBHOOK_SECRET = 'whsec_bundle-test-secret-0123456789';
const SHARED_REDIS_URL = 'redis://127.0.0.1:6379';

const id = runId();
const timings: Record<string, number> = {};
let node: NodeRuntime;
let scratch: string;
let taskRoot: string;
let resources: Record<string, Resource>;
let functions: LambdaFunction[];
let emulator: Service | undefined;
let emulatorUrl: string;
let controlPlane: FakeControlPlane | undefined;
let deps: Clients | undefined;
let queueUrls: Record<string, string>;
let bucketNames: Record<string, string>;
let redisUrl: string;
let ownRedis: PrivateRedis | undefined;

/** The machine's Redis under this run's prefix; a private redis-server when none answers (a clean CI box). */
async function chooseRedis(): Promise<string> {
  const probe = new Redis(SHARED_REDIS_URL, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  const up = await probe.connect().then(() => probe.ping()).then(() => true, () => false);
  probe.disconnect();
  if (up) return SHARED_REDIS_URL;
  ownRedis = await privateRedis('bundle-redis');
  await ownRedis.start();
  process.stderr.write(`[bundle] nothing answers at ${SHARED_REDIS_URL}: using a private redis-server at ${ownRedis.url}\n`);
  return ownRedis.url;
}

async function timed<T>(label: string, f: () => Promise<T> | T): Promise<T> {
  const t0 = performance.now();
  try {
    return await f();
  } finally {
    timings[label] = Math.round(performance.now() - t0);
  }
}

/** The function deployed with this handler (and, for shared handlers, this WORKER_ID). */
function fn(handler: string, workerId?: string): LambdaFunction {
  const found = functions.find((f) => f.handler === handler && (workerId === undefined || f.env.WORKER_ID === workerId));
  if (!found) throw new Error(`no function with handler ${handler}${workerId ? ` and WORKER_ID ${workerId}` : ''} in the template`);
  return found;
}

/** What Lambda would start this function's process with, pointed at the local stand-ins. */
function lambdaEnv(f: LambdaFunction): Record<string, string> {
  const env = {
    // Nothing inherited from jest's environment (NODE_PATH, npm_* and PWD name the repository).
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: path.join(scratch, 'home'),
    LANG: 'C.UTF-8',
    TZ: ':UTC',
    LAMBDA_TASK_ROOT: taskRoot,
    AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${LAMBDA_NODE_MAJOR}.x`,
    AWS_LAMBDA_FUNCTION_NAME: f.name,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(f.memorySize),
    AWS_REGION: REGION,
    AWS_DEFAULT_REGION: REGION,
    // Lambda hands the execution role's credentials over in these; the emulator takes any.
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    ...resolveEnvironment(f.env, resources, { queueUrlOf: (q) => queueUrls[q], bucketOf: (b) => bucketNames[b], region: REGION, accountId: ACCOUNT }),
    // The template removes AWS_ENDPOINT_URL (real AWS); here every SDK client must reach the emulator...
    AWS_ENDPOINT_URL: emulatorUrl,
    // ...except the authorizer's SSM client (service-specific endpoint, honoured by SDK v3) and
    // the Lambda API of worker liveness (the project's own override), which the emulator lacks.
    AWS_ENDPOINT_URL_SSM: controlPlane!.endpoint,
    LAMBDA_ENDPOINT_URL: controlPlane!.endpoint,
  };
  const leaking = Object.entries(env).filter(([, v]) => v.includes(ROOT));
  if (leaking.length) throw new Error(`the function's environment names the repository: ${leaking.map(([k]) => k).join(', ')}`);
  return env;
}

async function invoke<R = any>(f: LambdaFunction, events: unknown[], extraEnv: Record<string, string> = {}, timeoutMs?: number): Promise<InvocationReport<R>> {
  const report = await timed(`invoke ${f.logicalId}`, () =>
    invokeBundled<R>({ node: node.execPath, taskRoot, scratch: path.join(scratch, 'invoker'), functionName: f.name, handler: f.handler, env: { ...lambdaEnv(f), ...extraEnv }, events, timeoutMs }),
  );
  expectRanFromArtifact(report);
  return report;
}

/** The process ran on the chosen Node and loaded nothing from outside the unzipped artifact. */
function expectRanFromArtifact(report: InvocationReport): void {
  expect(report.node).toBe(node.version);
  expect(report.cwd).toBe(taskRoot);
  for (const [name, file] of Object.entries(report.resolved)) {
    expect({ name, file, inArtifact: file.startsWith(path.join(taskRoot, 'node_modules', name) + path.sep) }).toMatchObject({ inArtifact: true });
  }
  const invoker = path.join(scratch, 'invoker', 'invoker.cjs');
  const outside = report.loadedModules.filter((m) => m !== invoker && !m.startsWith(taskRoot + path.sep));
  expect(outside).toEqual([]);
  expect(report.loadedModules.filter((m) => m.includes(ROOT))).toEqual([]);
}

/**
 * sharp's native binding (and for OpenCV work OpenCV.js, the default OPENCV_BUILD=simd from
 * vendor/opencv-simd at the package root, and libjpeg-turbo's binding, the default
 * JPEG_CODEC) were really loaded, from the artifact, so the check above saw them.
 */
function expectLoadedNatives(report: InvocationReport, opts: { opencv: boolean }): void {
  const modules = path.join(taskRoot, 'node_modules');
  expect(report.loadedModules.filter((m) => m.startsWith(path.join(modules, '@img')) && m.endsWith('.node'))).toHaveLength(1);
  if (!opts.opencv) return;
  expect(report.loadedModules).toContain(path.join(taskRoot, 'vendor', 'opencv-simd', 'opencv_js.js'));
  expect(report.loadedModules.filter((m) => m.startsWith(path.join(modules, '@julusian', 'jpeg-turbo')) && m.endsWith('.node'))).toHaveLength(1);
}

function httpEvent(routeKey: string, opts: { rawPath?: string; body?: unknown; pathParameters?: Record<string, string>; principal?: string } = {}) {
  const [method, routePath] = routeKey.split(' ');
  const rawPath = opts.rawPath ?? routePath;
  const now = Date.now();
  return {
    version: '2.0',
    routeKey,
    rawPath,
    rawQueryString: '',
    headers: { host: 'bundle.execute-api.us-east-1.amazonaws.com', 'user-agent': 'bundle-smoke', ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(opts.pathParameters ? { pathParameters: opts.pathParameters } : {}),
    requestContext: {
      accountId: ACCOUNT,
      apiId: 'bundle',
      domainName: 'bundle.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'bundle',
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '198.51.100.7', userAgent: 'bundle-smoke' },
      requestId: randomUUID(),
      routeKey,
      stage: '$default',
      time: new Date(now).toISOString(),
      timeEpoch: now,
      // What the HTTP API passes on from a simple-response authorizer's context.
      ...(opts.principal ? { authorizer: { lambda: { principal: opts.principal } } } : {}),
    },
    ...(opts.body !== undefined ? { body: JSON.stringify(opts.body), isBase64Encoded: false } : { isBase64Encoded: false }),
  };
}

function authorizerEvent(routeKey: string, authorization?: string) {
  const [method, routePath] = routeKey.split(' ');
  const base = httpEvent(routeKey);
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: `arn:aws:execute-api:${REGION}:${ACCOUNT}:bundle/$default/${method}${routePath}`,
    identitySource: authorization === undefined ? [] : [authorization],
    routeKey,
    rawPath: routePath,
    rawQueryString: '',
    headers: { ...base.headers, ...(authorization === undefined ? {} : { authorization }) },
    requestContext: base.requestContext,
  };
}

const parsed = (res: { statusCode: number; body?: string }) => ({ status: res.statusCode, body: JSON.parse(res.body ?? 'null') });

async function s3Image(key: string) {
  const head = await deps!.s3.send(new HeadObjectCommand({ Bucket: bucketNames.ImageBucket, Key: key }));
  const bytes = Buffer.from(await (await deps!.s3.send(new GetObjectCommand({ Bucket: bucketNames.ImageBucket, Key: key }))).Body!.transformToByteArray());
  return { head, bytes, meta: await sharp(bytes).metadata() };
}

/** Creates each queue of the template that is not there yet, dead-letter targets first; checks the ones that are. */
async function ensureTemplateQueues(): Promise<Record<string, string>> {
  const urls: Record<string, string> = {};
  const ensure = async (logicalId: string): Promise<string> => {
    if (urls[logicalId]) return urls[logicalId];
    const p = resources[logicalId].Properties ?? {};
    const name: string = p.QueueName ?? `${id}-${logicalId}${p.FifoQueue ? '.fifo' : ''}`;
    const redrive = p.RedrivePolicy as { deadLetterTargetArn: unknown; maxReceiveCount: number } | undefined;
    const targetId = (redrive?.deadLetterTargetArn as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
    const targetUrl = targetId ? await ensure(targetId) : undefined;
    const targetArn = targetUrl
      ? (await deps!.sqs.send(new GetQueueAttributesCommand({ QueueUrl: targetUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!
      : undefined;
    const existing = await deps!.sqs.send(new GetQueueUrlCommand({ QueueName: name })).catch(() => undefined);
    if (existing?.QueueUrl) {
      // provision() made it from the functions' own settings: they must agree with the template.
      const attrs = (await deps!.sqs.send(new GetQueueAttributesCommand({ QueueUrl: existing.QueueUrl, AttributeNames: ['All'] }))).Attributes!;
      if (p.VisibilityTimeout !== undefined) expect(`${name} VisibilityTimeout ${attrs.VisibilityTimeout}`).toBe(`${name} VisibilityTimeout ${p.VisibilityTimeout}`);
      if (redrive) expect(`${name} ${JSON.stringify(JSON.parse(attrs.RedrivePolicy!))}`).toBe(`${name} ${JSON.stringify({ deadLetterTargetArn: targetArn, maxReceiveCount: redrive.maxReceiveCount })}`);
      return (urls[logicalId] = existing.QueueUrl);
    }
    const attributes: Record<string, string> = {};
    for (const k of ['FifoQueue', 'ContentBasedDeduplication', 'VisibilityTimeout', 'MessageRetentionPeriod', 'DelaySeconds', 'ReceiveMessageWaitTimeSeconds', 'MaximumMessageSize'] as const) {
      if (p[k] !== undefined) attributes[k] = String(p[k]);
    }
    if (redrive) attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: targetArn, maxReceiveCount: redrive.maxReceiveCount });
    return (urls[logicalId] = (await deps!.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl!);
  };
  for (const [logicalId, r] of Object.entries(resources)) if (r.Type === 'AWS::SQS::Queue') await ensure(logicalId);
  return urls;
}

beforeAll(async () => {
  node = lambdaNode();
  process.stderr.write(`\n[bundle] handlers ran on node ${node.version} (${node.source})\n`);
  if (!node.lambdaMajor) process.stderr.write(`[bundle] WARNING: NOT the Lambda runtime (Node ${LAMBDA_NODE_MAJOR}): this run checks the artifact on ${node.version} only\n`);

  // Outside the repository, so no module lookup from the artifact can climb into its node_modules.
  scratch = mkdtempSync(path.join(os.tmpdir(), 'aws-bundle-'));
  expect(path.relative(ROOT, scratch).startsWith('..')).toBe(true);
  taskRoot = path.join(scratch, 'artifact');
  const packageDir = path.join(scratch, 'package');
  for (const d of [taskRoot, path.join(scratch, 'invoker'), path.join(scratch, 'home')]) mkdirSync(d, { recursive: true });

  redisUrl = await chooseRedis();
  await timed('build dashboard', () => buildDashboard());
  await timed('sls package --stage aws', () =>
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js'), 'package', '--stage', 'aws', '--package', packageDir], {
      cwd: ROOT,
      // Only what packaging needs plus what a deployer sets: no stray pipeline variable from this
      // shell (DISPATCH_MODE, LOG_LEVEL…) changes what the template says.
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ...(process.env.npm_config_cache ? { npm_config_cache: process.env.npm_config_cache } : {}),
        // The npm packager installs the externals (sharp, OpenCV.js, piscina, libjpeg-turbo): from the local cache when it can.
        npm_config_prefer_offline: 'true',
        SLS_TELEMETRY_DISABLED: '1',
        API_KEYS_SECRET,
        WEBHOOK_SECRET_REF,
        REDIS_URL: redisUrl,
        REDIS_PREFIX: id,
      },
      stdio: 'pipe',
      timeout: 240_000,
    }),
  );
  const artifacts = ['image-pipeline.zip'].map((f) => path.join(packageDir, f));
  for (const zip of artifacts) await timed('unzip', () => execFileSync('unzip', ['-q', '-o', zip, '-d', taskRoot]));
  const template = JSON.parse(readFileSync(path.join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8'));
  resources = template.Resources;
  functions = Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .map(([logicalId, r]) => ({ logicalId, name: r.Properties!.FunctionName, handler: r.Properties!.Handler, memorySize: r.Properties!.MemorySize, env: r.Properties!.Environment?.Variables ?? {} }));
  // Every function here runs from the one shared artifact this test unzipped.
  for (const [, r] of Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function')) expect(r.Properties!.Code.S3Key).toMatch(/image-pipeline\.zip$/);

  const emulatorPort = await freePort();
  emulatorUrl = `http://127.0.0.1:${emulatorPort}`;
  emulator = startService('emulator', process.execPath, [path.join(ROOT, 'scripts', 'emulator.mjs'), String(emulatorPort), '127.0.0.1'], { cwd: ROOT });
  await waitFor('embedded emulator', 15_000, async () => ((await fetch(`${emulatorUrl}/health`)).ok ? true : undefined));

  // A CloudFormation-named bucket for each bucket the functions reference.
  bucketNames = Object.fromEntries(Object.entries(resources).filter(([, r]) => r.Type === 'AWS::S3::Bucket').map(([b, r]) => [b, r.Properties?.BucketName ?? `${id}-${b}`.toLowerCase()]));
  // The queues, bucket and samples the code expects, named by the template's own settings...
  const health = fn('handlers/health.check');
  const settings = resolveEnvironment(health.env, resources, { queueUrlOf: () => '', bucketOf: (b) => bucketNames[b], region: REGION, accountId: ACCOUNT });
  deps = createClients(loadConfig({ ...settings, AWS_ENDPOINT_URL: emulatorUrl, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', REDIS_URL: redisUrl, REDIS_PREFIX: id }));
  await timed('provision', () => provision(deps!));
  // ...and every queue the template declares, so a queue added to serverless.yml is covered here too.
  queueUrls = await ensureTemplateQueues();

  const taskQueueArn = (await deps.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrls.TaskQueue, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  controlPlane = await startFakeControlPlane({
    parameters: { [API_KEYS_SECRET]: KEYS.join(','), [WEBHOOK_SECRET_REF]: WEBHOOK_SECRET },
    workerFunctions: functions.filter((f) => f.handler === 'handlers/worker.consume').map((f) => f.name),
    queueArn: taskQueueArn,
  });
}, 420_000);

afterAll(async () => {
  if (deps) {
    // Redis is shared with other runs: remove exactly this run's keys.
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await deps.redis.scan(cursor, 'MATCH', `${id}:*`, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    if (keys.length) await deps.redis.del(...keys);
    await closeClients(deps);
  }
  await ownRedis?.remove();
  await controlPlane?.close();
  if (emulator) await stopService(emulator);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  process.stderr.write(`[bundle] run ${id}; timings (ms): ${JSON.stringify(timings)}\n[bundle] handlers ran on node ${node?.version} (${node?.source})\n`);
}, 60_000);

test('the artifact ships its externals and no copy of the sources, outside the repository', () => {
  for (const dep of ['sharp', 'piscina', '@techstark/opencv-js', '@julusian/jpeg-turbo', 'swagger-ui-dist']) expect(existsSync(path.join(taskRoot, 'node_modules', dep, 'package.json'))).toBe(true);
  // What the API reference page does not load is trimmed (scripts/aws/trim-externals.cjs).
  expect(readdirSync(path.join(taskRoot, 'node_modules', 'swagger-ui-dist')).filter((f) => f.endsWith('.map'))).toEqual([]);
  // The default OpenCV build (OPENCV_BUILD=simd) rides along outside node_modules.
  expect(existsSync(path.join(taskRoot, 'vendor', 'opencv-simd', 'opencv_js.js'))).toBe(true);
  // The pool's source-tree entry point is absent, so pool threads can only start from the handler bundle.
  expect(existsSync(path.join(taskRoot, 'lib'))).toBe(false);
  expect(readFileSync(path.join(taskRoot, 'handlers', 'batch.js'), 'utf8')).not.toContain(ROOT);
  expect(taskRoot.startsWith(os.tmpdir())).toBe(true);
  // The deployer's REDIS_URL / REDIS_PREFIX reach every function (this run's keys, removed after).
  for (const f of functions) expect({ fn: f.logicalId, url: f.env.REDIS_URL, prefix: f.env.REDIS_PREFIX }).toEqual({ fn: f.logicalId, url: redisUrl, prefix: id });
});

test('health: 200 with Redis, the task queue and the bucket reachable', async () => {
  const f = fn('handlers/health.check');
  const report = await invoke(f, [httpEvent('GET /api/health/')]);
  const { status, body } = parsed(report.results[0]);
  expect(status).toBe(200);
  expect(body).toMatchObject({ status: 'ok', stage: 'aws', aws_endpoint: emulatorUrl });
  expect(body.checks).toMatchObject({ redis: { ok: true }, sqs: { ok: true, queue: resources.TaskQueue.Properties!.QueueName }, s3: { ok: true, bucket: bucketNames.ImageBucket } });
});

test('the API reference: the OpenAPI document, and the page with each of its files from the artifact', async () => {
  const doc = parsed((await invoke(fn('handlers/api-docs.openapiDocument'), [httpEvent('GET /api/openapi.json')])).results[0]);
  expect(doc.status).toBe(200);
  expect(doc.body.openapi).toMatch(/^3\.1\./);
  expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/api/process-batch/distributed/', '/api/docs/', '/api/docs/{asset}']));
  const assets = ['swagger-ui.css', 'swagger-ui-bundle.js', 'init.js', 'favicon-32x32.png'];
  const report = await invoke(fn('handlers/api-docs.reference'), [
    httpEvent('GET /api/docs/'),
    ...assets.map((asset) => httpEvent('GET /api/docs/{asset}', { rawPath: `/api/docs/${asset}`, pathParameters: { asset } })),
    httpEvent('GET /api/docs/{asset}', { rawPath: '/api/docs/swagger-ui.js', pathParameters: { asset: 'swagger-ui.js' } }),
  ]);
  const [page, ...files] = report.results as { statusCode: number; headers: Record<string, string>; body: string; isBase64Encoded?: boolean }[];
  expect(page).toMatchObject({ statusCode: 200, headers: { 'content-type': 'text/html; charset=utf-8' } });
  for (const a of assets) expect(page.body).toContain(`/api/docs/${a}`);
  const types = [/^text\/css/, /^text\/javascript/, /^text\/javascript/, /^image\/png$/];
  const swaggerUi = path.join(ROOT, 'node_modules', 'swagger-ui-dist');
  assets.forEach((asset, i) => {
    const res = files[i];
    expect({ asset, status: res.statusCode }).toEqual({ asset, status: 200 });
    expect(res.headers['content-type']).toMatch(types[i]);
    const bytes = Buffer.from(res.body, res.isBase64Encoded ? 'base64' : 'utf8');
    // The package's own bytes (read by the bundled handler from the artifact's node_modules).
    if (asset !== 'init.js') expect(bytes.equals(readFileSync(path.join(swaggerUi, asset)))).toBe(true);
  });
  expect(files[assets.length].statusCode).toBe(404);
});

let principal: string;

test('the authorizer allows both keys read from SSM and denies a wrong or missing one', async () => {
  const f = fn('handlers/authorizer.authorize');
  expect(f.env.API_KEYS_SECRET).toBe(API_KEYS_SECRET);
  const route = 'POST /api/process-batch/distributed/';
  const report = await invoke(f, [authorizerEvent(route, 'Bearer k1'), authorizerEvent(route, 'Bearer k2'), authorizerEvent(route, 'Bearer not-a-key'), authorizerEvent(route, undefined), authorizerEvent(route, 'k1')]);
  const [k1, k2, wrong, missing, noScheme] = report.results;
  expect(k1).toEqual({ isAuthorized: true, context: { principal: expect.stringMatching(/^[0-9a-f]{16}$/) } });
  expect(k2).toEqual({ isAuthorized: true, context: { principal: expect.stringMatching(/^[0-9a-f]{16}$/) } });
  expect(k2.context.principal).not.toBe(k1.context.principal);
  for (const denied of [wrong, missing, noScheme]) expect(denied).toEqual({ isAuthorized: false });
  // The keys came from the parameter through the bundle's SSM client, read once per cold start.
  expect(controlPlane!.ssmCalls).toEqual([{ name: API_KEYS_SECRET, withDecryption: true, signed: true }]);
  principal = k1.context.principal;
});

test('distributed: submit 202, worker-3 takes the real SQS message and stores a real image, status completed', async () => {
  expect(principal).toBeDefined();
  const submitted = await invoke(fn('handlers/distributed.submit'), [
    httpEvent('POST /api/process-batch/distributed/', { principal, body: { filters: ['resize', 'edges'], filter_params: { resize: { width: 640, height: 360 } }, images: ['sample_4k.jpg'] } }),
  ]);
  const { status, body } = parsed(submitted.results[0]);
  expect(status).toBe(202);
  expect(body).toMatchObject({ status: 'pending', dispatch: 'fifo', images: ['sample_4k.jpg'] });
  const taskId: string = body.task_id;

  // The message as Lambda's event-source mapping would take it off the queue.
  const received = await deps!.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrls.TaskQueue, MaxNumberOfMessages: 1, WaitTimeSeconds: 5, MessageSystemAttributeNames: ['All'], MessageAttributeNames: ['All'] }));
  expect(received.Messages).toHaveLength(1);
  const m = received.Messages![0];
  expect(JSON.parse(m.Body!).task_id).toBe(taskId);
  const queueArn = (await deps!.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrls.TaskQueue, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  expect(queueArn).toBe(`arn:aws:sqs:${REGION}:${ACCOUNT}:${resources.TaskQueue.Properties!.QueueName}`);
  const a = m.Attributes ?? {};
  const event: SQSEvent = {
    Records: [
      {
        messageId: m.MessageId!,
        receiptHandle: m.ReceiptHandle!,
        body: m.Body!,
        attributes: {
          ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
          SentTimestamp: a.SentTimestamp ?? String(Date.now()),
          SenderId: a.SenderId ?? ACCOUNT,
          ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
          MessageGroupId: a.MessageGroupId,
          MessageDeduplicationId: a.MessageDeduplicationId,
          SequenceNumber: a.SequenceNumber,
        },
        messageAttributes: {},
        md5OfBody: m.MD5OfBody!,
        eventSource: 'aws:sqs',
        eventSourceARN: queueArn,
        awsRegion: REGION,
      },
    ],
  };
  expect(event.Records[0].attributes.MessageGroupId).toBeTruthy();

  const worker = fn('handlers/worker.consume', 'worker-3');
  const consumed = await invoke(worker, [event]);
  expect(consumed.results[0]).toEqual({ batchItemFailures: [] });
  expectLoadedNatives(consumed, { opencv: true });
  // A fully successful batch is deleted by the event-source mapping, not by the function.
  await deps!.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrls.TaskQueue, ReceiptHandle: m.ReceiptHandle! }));

  const statusReport = await invoke(fn('handlers/distributed.task'), [httpEvent('GET /api/task/{task_id}/status/', { rawPath: `/api/task/${taskId}/status/`, pathParameters: { task_id: taskId }, principal })]);
  const task = parsed(statusReport.results[0]);
  expect(task.status).toBe(200);
  expect(task.body).toMatchObject({ task_id: taskId, status: 'completed', worker_id: 'worker-3', result: { width: 640, height: 360 } });
  // Worker liveness on the aws stage read the worker functions' SQS mappings.
  expect(controlPlane!.lambdaCalls).toEqual(expect.arrayContaining(functions.filter((f) => f.handler === 'handlers/worker.consume').map((f) => f.name)));

  const { head, bytes, meta } = await s3Image(task.body.result.key);
  expect(head.ContentType).toBe('image/jpeg');
  expect(bytes.length).toBe(task.body.result.bytes);
  expect(meta).toMatchObject({ format: 'jpeg', width: 640, height: 360 });
  // Edges (OpenCV.js from the artifact) leave a mostly dark image.
  expect((await sharp(bytes).stats()).channels[0].mean).toBeLessThan(30);
}, 180_000);

test('jobs: the bundled job view reads a job, the bundled cancel stops it, and a worker then skips its tasks', async () => {
  const submitted = parsed(
    (await invoke(fn('handlers/distributed.submit'), [httpEvent('POST /api/process-batch/distributed/', { principal, body: { filters: ['blur'], images: ['sample_4k.jpg', 'sample_4k.jpg'] } })])).results[0],
  );
  expect(submitted.status).toBe(202);
  const jobId: string = submitted.body.job_id;
  const path = { job_id: jobId };
  const view = async () =>
    parsed((await invoke(fn('handlers/jobs.view'), [httpEvent('GET /api/jobs/{job_id}/', { rawPath: `/api/jobs/${jobId}/`, pathParameters: path, principal })])).results[0]);
  const before = await view();
  expect(before.status).toBe(200);
  expect(before.body).toMatchObject({ job_id: jobId, status: 'pending', counts: { total: 2, pending: 2 } });

  const cancel = parsed(
    (await invoke(fn('handlers/jobs.cancel'), [httpEvent('POST /api/jobs/{job_id}/cancel/', { rawPath: `/api/jobs/${jobId}/cancel/`, pathParameters: path, principal, body: {} })])).results[0],
  );
  expect(cancel.status).toBe(200);
  expect(cancel.body).toMatchObject({ job_id: jobId, cancelled: 2, stopping: 0, already_finished: 0, job: { status: 'cancelled' } });
  expect((await view()).body).toMatchObject({ status: 'cancelled', counts: { total: 2, pending: 0, cancelled: 2 }, results: [] });

  // The messages are still on the queue: the bundled worker acknowledges them without processing.
  const received = await deps!.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrls.TaskQueue, MaxNumberOfMessages: 10, WaitTimeSeconds: 5, MessageSystemAttributeNames: ['All'] }));
  const ours = (received.Messages ?? []).filter((m) => JSON.parse(m.Body!).batch_id === jobId);
  expect(ours).toHaveLength(2);
  const queueArn = (await deps!.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrls.TaskQueue, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn!;
  const event: SQSEvent = {
    Records: ours.map((m) => ({
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body!,
      attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), SenderId: ACCOUNT, ApproximateFirstReceiveTimestamp: String(Date.now()) },
      messageAttributes: {},
      md5OfBody: m.MD5OfBody!,
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: REGION,
    })),
  };
  const consumed = await invoke(fn('handlers/worker.consume', 'worker-3'), [event]);
  expect(consumed.results[0]).toEqual({ batchItemFailures: [] });
  for (const m of received.Messages ?? []) await deps!.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrls.TaskQueue, ReceiptHandle: m.ReceiptHandle! }));
  const after = (await view()).body;
  expect(after).toMatchObject({ status: 'cancelled', counts: { cancelled: 2, completed: 0 } });
  for (const id of submitted.body.task_ids) {
    const t = parsed((await invoke(fn('handlers/distributed.task'), [httpEvent('GET /api/task/{task_id}/status/', { rawPath: `/api/task/${id}/status/`, pathParameters: { task_id: id }, principal })])).results[0]);
    expect(t.body).toMatchObject({ status: 'cancelled', attempts: 0, result: null });
  }
}, 180_000);

test('multiprocessing: pool threads started from the handler bundle brighten every stored image', async () => {
  const report = await invoke(fn('handlers/batch.multiprocessing'), [
    httpEvent('POST /api/process-batch/multiprocessing/', { principal, body: { filters: ['brightness'], filter_params: { brightness: { factor: 1.5 } } } }),
  ]);
  const { status, body } = parsed(report.results[0]);
  expect(status).toBe(200);
  // OpenCV.js loads in the pool threads only, which require.cache of the main thread does not list.
  expectLoadedNatives(report, { opencv: false });
  expect(body.resources.pool_threads).toBeGreaterThanOrEqual(1);
  expect(body.resources.pool).toMatchObject({ threads: body.resources.pool_threads });
  const samples = readdirSync(STATIC_DIR).filter((f) => IMAGE_FILE.test(f)).sort();
  expect(body.results.map((r: { image: string }) => r.image).sort()).toEqual(samples);
  // Warm-up tasks plus one per image ran on the pool's threads.
  expect(body.resources.pool.completed_tasks).toBeGreaterThanOrEqual(body.resources.pool_threads + samples.length);
  for (const r of body.results as { image: string; key: string }[]) {
    const { meta, bytes } = await s3Image(r.key);
    expect(meta.format).toBe('jpeg');
    const original = readFileSync(path.join(STATIC_DIR, r.image));
    const [before, after] = await Promise.all([sharp(original).stats(), sharp(bytes).stats()]);
    expect(after.channels[0].mean / before.channels[0].mean).toBeGreaterThan(1.2);
  }
}, 180_000);

test('webhookSender: the scheduled run reads its secret from SSM and delivers a job\'s events, signed, in order', async () => {
  const got: { headers: Record<string, unknown>; body: string }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const jobId = randomUUID();
    const notifyUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    await deps!.redis.hset(jobKey(deps!, jobId), { job_id: jobId, status: 'queued', notify_url: notifyUrl });
    await deps!.redis.expire(jobKey(deps!, jobId), 600);
    await appendJobEvent(deps!, { type: 'job.created', job_id: jobId, status: 'queued' });
    await appendJobEvent(deps!, { type: 'job.completed', job_id: jobId, status: 'completed' });

    const f = fn('handlers/worker.deliverWebhooks');
    expect(f.env).toMatchObject({ WEBHOOK_SECRET_REF, WEBHOOK_ALLOW_PRIVATE: 'false' });
    // The receiver is on this machine: the aws stage's private-address refusal is lifted for this run only.
    // A 10 s invocation with 1 s attempts keeps 2 x 1 s + 5 s in reserve, so it polls for 3 s
    // (not the 20 s it lingers after work in a full minute) and returns inside its time.
    const report = await invoke(f, [{ source: 'aws.events', 'detail-type': 'Scheduled Event' }], { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_TIMEOUT_MS: '1000' }, 10_000);
    expect(report.results[0]).toMatchObject({ attempts: 2, delivered: 2, failed: 0 });
    expect(report.results[0].ran_ms).toBeGreaterThanOrEqual(2500);
    expect(report.results[0].ran_ms).toBeLessThan(10_000);
    expect(got.map((r) => JSON.parse(r.body)).map((b) => [b.seq, b.type])).toEqual([[1, 'job.created'], [2, 'job.completed']]);
    for (const r of got) expect(verifyWebhookSignature(WEBHOOK_SECRET, r.headers['x-pipeline-signature'] as string, r.body)).toMatchObject({ ok: true });
    expect(controlPlane!.ssmCalls.filter((c) => c.name === WEBHOOK_SECRET_REF)).toEqual([{ name: WEBHOOK_SECRET_REF, withDecryption: true, signed: true }]);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}, 90_000);

test('distributed with a notify_url: the submit wakes the webhook sender at once, unless one is running', async () => {
  const submit = fn('handlers/distributed.submit');
  const sender = fn('handlers/worker.deliverWebhooks');
  expect(submit.env.WEBHOOK_SENDER_FUNCTION).toBe(sender.name);
  const body = { filters: ['brightness'], filter_params: { brightness: { factor: 1.1 } }, images: ['sample_4k.jpg'], notify_url: 'http://127.0.0.1:9/hook' };
  const submitOnce = async () => {
    // The receiver is on this machine: the aws stage's private-address refusal is lifted for this run only.
    const report = await invoke(submit, [httpEvent('POST /api/process-batch/distributed/', { principal, body })], { WEBHOOK_ALLOW_PRIVATE: 'true' });
    expect(parsed(report.results[0]).status).toBe(202);
  };
  const before = controlPlane!.invokes.length;
  await submitOnce();
  expect(controlPlane!.invokes.slice(before)).toEqual([{ functionName: sender.name, type: 'Event', signed: true }]);

  // A sender run marks itself alive; a submission then leaves the work to it.
  const alive = deps!.key('webhooks', 'sender-alive');
  await deps!.redis.set(alive, '1', 'PX', 30_000);
  try {
    await submitOnce();
    expect(controlPlane!.invokes.slice(before)).toHaveLength(1);
  } finally {
    await deps!.redis.del(alive);
  }

  // The two tasks' messages are left for no worker: take them off so nothing else here meets them.
  for (let n = 0; n < 2; ) {
    const got = await deps!.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrls.TaskQueue, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }));
    for (const m of got.Messages ?? []) await deps!.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrls.TaskQueue, ReceiptHandle: m.ReceiptHandle! }));
    n += got.Messages?.length ?? 0;
    if (!got.Messages?.length) break;
  }
}, 90_000);
