/**
 * The LocalStack path as far as a machine without Docker can check it: LocalStack's init
 * script (localstack/init/ready.d) runs with the real AWS CLI, through an `awslocal` shim like
 * LocalStack's own, against the embedded emulator; `provision()` (what `npm start` runs) runs
 * against the same emulator under other names; and everything the two created must be equal,
 * compared as whole descriptions so that any future divergence fails. Not checked here:
 * LocalStack itself (no Docker engine) and how it runs ready.d hooks.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, ListQueuesCommand } from '@aws-sdk/client-sqs';
import yaml from 'js-yaml';
import sharp from 'sharp';
import { closeClients, createClients, type Clients } from '../../lib/core/clients';
import { loadConfig } from '../../lib/core/config';
import { WORKER_CLASSES } from '../../lib/tasks/dispatch';
import { findBinary, freePort, spawnCollected, waitFor, type Collected } from '../../scripts/local/processes';
import { provision, STATIC_DIR } from '../../scripts/local/resources';
import { ARTIFACTS, runId } from '../helpers/stack';

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'localstack', 'init', 'ready.d', '01-pipeline-resources.sh');
const SCRIPT_TEXT = readFileSync(SCRIPT, 'utf8');

// Missing, the test fails rather than skips: a skip would pass an init script never run.
function awsCli(): string {
  const aws = findBinary('aws');
  if (!aws) throw new Error('aws CLI not found on PATH: install an AWS CLI that speaks SQS\'s JSON protocol (aws-cli v1 1.45, or a current v2; Debian bookworm\'s awscli 2.9.19 is too old) to run the LocalStack init script');
  return aws;
}

/** The default a `${NAME:-default}` line of the script gives NAME. */
function scriptDefault(name: string): string {
  const m = new RegExp(`^${name}="\\$\\{${name}:-([^}]*)\\}"$`, 'm').exec(SCRIPT_TEXT);
  if (!m) throw new Error(`${SCRIPT} has no ${name}="\${${name}:-…}" line`);
  return m[1];
}

let emulator: Collected;
let emulatorUrl: string;
let binDir: string;
const opened: Clients[] = [];

beforeAll(async () => {
  const port = await freePort();
  emulator = spawnCollected(process.execPath, [path.join(ROOT, 'scripts', 'emulator.mjs'), String(port), '127.0.0.1'], {
    cwd: ROOT,
    logFile: path.join(ARTIFACTS, 'localstack-init-script-emulator.log'),
  });
  emulatorUrl = `http://127.0.0.1:${port}`;
  await waitFor('embedded emulator', 15_000, async () => ((await fetch(`${emulatorUrl}/health`)).ok ? true : undefined));
  // What LocalStack's awslocal does: the aws CLI pointed at the emulator with dummy keys.
  binDir = mkdtempSync(path.join(tmpdir(), 'awslocal-'));
  writeFileSync(
    path.join(binDir, 'awslocal'),
    [
      '#!/usr/bin/env bash',
      'export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1',
      'exec aws --endpoint-url "$EMULATOR_URL" "$@"',
      '',
    ].join('\n'),
  );
  chmodSync(path.join(binDir, 'awslocal'), 0o755);
});

afterAll(async () => {
  for (const deps of opened) await closeClients(deps);
  if (emulator && emulator.child.exitCode === null) {
    emulator.child.kill('SIGTERM');
    await emulator.exited;
  }
  if (binDir) rmSync(binDir, { recursive: true, force: true });
});

/** Names of one run, as the harness isolates them; `id` is what normalise() maps away. */
function names() {
  const id = runId();
  return { id, QUEUE_NAME: `${id}-tasks.fifo`, DLQ_NAME: `${id}-dlq.fifo`, BUCKET_NAME: `${id}-bucket` };
}

async function runScript(env: Record<string, string>, endpoint = emulatorUrl): Promise<string> {
  awsCli();
  const run = spawnCollected('bash', [SCRIPT], {
    cwd: ROOT,
    env: { ...process.env, PATH: `${binDir}${path.delimiter}${process.env.PATH}`, EMULATOR_URL: endpoint, ...env },
  });
  const code = await run.exited;
  if (code !== 0) {
    let version = '';
    try {
      version = execFileSync(awsCli(), ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    } catch (e) {
      version = `aws --version failed: ${(e as Error).message}`;
    }
    // fauxqs reads form-encoded posts as SNS, so an SQS call in the old query protocol lands there.
    const hint = /Unknown action: (CreateQueue|GetQueueAttributes)/.test(run.output())
      ? `\nThis aws CLI sends SQS requests in the query protocol; the embedded emulator (fauxqs) serves only SQS's JSON protocol, which newer CLIs use (aws-cli 1.45 does; Debian bookworm's awscli 2.9.19 does not).`
      : '';
    throw new Error(`the init script exited with ${code} (${version}):\n${run.output()}${hint}`);
  }
  return run.output();
}

function clientsFor(env: Record<string, string>): Clients {
  const deps = createClients(
    loadConfig({ ...env, AWS_ENDPOINT_URL: emulatorUrl, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', LOG_LEVEL: 'warn' }),
  );
  opened.push(deps);
  return deps;
}

/**
 * Everything one run created, with its run id replaced by <run> so two runs compare equal
 * exactly when they created the same things; timestamps are the only attributes left out.
 * A redrive to another run's DLQ keeps that run's id and so differs.
 */
async function describeRun(deps: Clients, id: string) {
  const normalise = (s: string) => s.split(id).join('<run>');
  const queues: Record<string, Record<string, unknown>> = {};
  const urls = (await deps.sqs.send(new ListQueuesCommand({}))).QueueUrls ?? [];
  for (const url of urls) {
    const name = url.slice(url.lastIndexOf('/') + 1);
    if (!name.startsWith(`${id}-`)) continue;
    const { Attributes = {} } = await deps.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
    const attributes: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(Attributes)) {
      if (k === 'CreatedTimestamp' || k === 'LastModifiedTimestamp') continue;
      attributes[k] = k === 'RedrivePolicy' ? JSON.parse(normalise(v)) : normalise(v);
    }
    queues[normalise(name)] = attributes;
  }
  const bucket = deps.config.aws.bucket;
  const bucketExists = await deps.s3.send(new HeadBucketCommand({ Bucket: bucket })).then(
    () => true,
    () => false,
  );
  const objects: Record<string, { size?: number; etag?: string; contentType?: string }> = {};
  if (bucketExists) {
    const listed = await deps.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    for (const o of listed.Contents ?? []) {
      const head = await deps.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: o.Key! }));
      objects[o.Key!] = { size: head.ContentLength, etag: head.ETag, contentType: head.ContentType };
    }
  }
  return { queues, bucket: { name: normalise(bucket), exists: bucketExists, objects } };
}

const md5 = (file: string) => `"${createHash('md5').update(readFileSync(file)).digest('hex')}"`;

test('the script\'s default worker classes are those of lib/tasks/dispatch.ts', () => {
  expect(scriptDefault('WORKER_CLASSES').split(',')).toEqual(WORKER_CLASSES.map((c) => c.name));
});

test('docker-compose.yml gives the script the names the services use and static/ where it reads it', () => {
  const compose = yaml.load(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as any;
  const localstack = compose.services.localstack;
  const pipelineEnv = compose['x-pipeline-env'];
  for (const v of ['QUEUE_NAME', 'DLQ_NAME', 'BUCKET_NAME']) expect(localstack.environment[v]).toBe(pipelineEnv[v]);
  // Unset there, the script's tested default applies; set, it would be one more copy to drift.
  expect(localstack.environment.WORKER_CLASSES).toBeUndefined();
  expect(localstack.volumes).toContain(`./static:${scriptDefault('STATIC_DIR')}:ro`);
  expect(localstack.volumes).toContain('./localstack/init/ready.d:/etc/localstack/init/ready.d:ro');
});

test('the init script, run twice with the AWS CLI, creates exactly what npm start\'s provision() creates', async () => {
  const viaScript = names();
  const viaProvision = names();
  const scriptEnv = { ...viaScript, STATIC_DIR };

  await runScript(scriptEnv);
  const afterFirst = await describeRun(clientsFor(viaScript), viaScript.id);
  await runScript(scriptEnv);
  const afterSecond = await describeRun(clientsFor(viaScript), viaScript.id);

  const provisionDeps = clientsFor(viaProvision);
  await provision(provisionDeps);
  const expected = await describeRun(provisionDeps, viaProvision.id);

  // Not vacuous: provision() made the queues, redrive and objects this repo expects.
  const classQueues = WORKER_CLASSES.map((c) => `<run>-tasks-${c.name}.fifo`);
  expect(Object.keys(expected.queues).sort()).toEqual(['<run>-dlq.fifo', '<run>-tasks.fifo', ...classQueues].sort());
  expect(expected.queues['<run>-dlq.fifo']).toMatchObject({ FifoQueue: 'true', ContentBasedDeduplication: 'false', MessageRetentionPeriod: '1209600' });
  for (const q of ['<run>-tasks.fifo', ...classQueues]) {
    expect(expected.queues[q]).toMatchObject({
      FifoQueue: 'true',
      ContentBasedDeduplication: 'false',
      VisibilityTimeout: '60',
      RedrivePolicy: { deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:<run>-dlq.fifo', maxReceiveCount: 3 },
    });
  }
  const images = readdirSync(STATIC_DIR).filter((f) => /\.jpe?g$/i.test(f));
  expect(images.length).toBeGreaterThan(0);
  for (const f of images) expect(expected.bucket.objects[`source/${f}`]).toEqual({ size: readFileSync(path.join(STATIC_DIR, f)).length, etag: md5(path.join(STATIC_DIR, f)), contentType: 'image/jpeg' });

  expect(afterFirst).toEqual(expected);
  expect(afterSecond).toEqual(expected);
}, 120_000);

test('the script uploads the same files as provision(), with the same content types, whatever the names in the static directory', async () => {
  // Real images in each format lib/images/source.ts accepts, upper-case extensions, and names
  // both must skip.
  const dir = mkdtempSync(path.join(tmpdir(), 'pipeline-static-'));
  try {
    const small = sharp(path.join(STATIC_DIR, 'sample_4k.jpg')).resize(64, 48);
    await small.clone().png().toFile(path.join(dir, 'small.png'));
    await small.clone().webp().toFile(path.join(dir, 'small.webp'));
    await small.clone().avif().toFile(path.join(dir, 'small.avif'));
    await small.clone().tiff().toFile(path.join(dir, 'small.TIF'));
    await small.clone().jpeg().toFile(path.join(dir, 'Small_2.JPEG'));
    for (const skipped of ['notes.txt', '-dash.jpg', 'has space.jpg', '.hidden.jpg', 'no-extension']) copyFileSync(path.join(dir, 'Small_2.JPEG'), path.join(dir, skipped));

    const viaScript = names();
    const viaProvision = names();
    await runScript({ ...viaScript, STATIC_DIR: dir });
    const provisionDeps = clientsFor(viaProvision);
    await provision(provisionDeps, { staticDir: dir });
    const expected = await describeRun(provisionDeps, viaProvision.id);

    expect(
      Object.entries(expected.bucket.objects)
        .map(([k, o]) => `${k} ${o.contentType}`)
        .sort(),
    ).toEqual(['source/Small_2.JPEG image/jpeg', 'source/small.TIF image/tiff', 'source/small.avif image/avif', 'source/small.png image/png', 'source/small.webp image/webp']);
    expect(await describeRun(clientsFor(viaScript), viaScript.id)).toEqual(expected);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 120_000);

test('a failing AWS call fails the script: nothing says ready when the endpoint is down', async () => {
  const closed = `http://127.0.0.1:${await freePort()}`;
  const run = runScript({ ...names(), STATIC_DIR, AWS_MAX_ATTEMPTS: '1', AWS_RETRY_MODE: 'standard' }, closed);
  await expect(run).rejects.toThrow(/the init script exited with [1-9]/);
  await expect(run).rejects.not.toThrow(/image-pipeline: queues/);
}, 60_000);
