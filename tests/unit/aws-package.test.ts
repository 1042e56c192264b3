// `serverless package --stage aws` runs offline (no credentials, no AWS calls) and yields the
// CloudFormation template of the whole pipeline.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IMAGE_PROCESS_ENV } from '../../lib/core/process-env';
import { buildDashboard } from '../../scripts/build-dashboard';

const ROOT = path.resolve(__dirname, '..', '..');
const SECRET_ARN = 'arn:aws:ssm:us-east-1:123456789012:parameter/image-pipeline/api-keys';
let template: { Resources: Record<string, { Type: string; Properties: any }> };
let outDir: string;
// Distinctive values in the deployer's environment, searched for in everything packaged.
const FAKE_KEY_ID = 'AKIAFAKEDEPLOYERKEY7';
const FAKE_SECRET = 'fakeDeployerSecret/wJalrXUtnFEMI/K7MDENG';
const FAKE_REDIS_HOST = 'redis-fake-host.example';

beforeAll(async () => {
  await buildDashboard();
  outDir = mkdtempSync(path.join(os.tmpdir(), 'sls-package-'));
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js'), 'package', '--stage', 'aws', '--package', outDir], {
    cwd: ROOT,
    env: {
      ...process.env,
      SLS_TELEMETRY_DISABLED: '1',
      AWS_ACCESS_KEY_ID: FAKE_KEY_ID,
      AWS_SECRET_ACCESS_KEY: FAKE_SECRET,
      AWS_ENDPOINT_URL: '',
      REDIS_URL: `rediss://${FAKE_REDIS_HOST}:6379`,
      API_KEYS_SECRET: SECRET_ARN,
    },
    stdio: 'pipe',
    timeout: 240_000,
  });
  template = JSON.parse(readFileSync(path.join(outDir, 'cloudformation-template-update-stack.json'), 'utf8'));
}, 300_000);
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

const ofType = (type: string) => Object.entries(template.Resources).filter(([, r]) => r.Type === type);

test('a FIFO task queue with a FIFO dead-letter queue and a redrive policy', () => {
  const queues = Object.fromEntries(ofType('AWS::SQS::Queue'));
  expect(queues.TaskQueue.Properties).toMatchObject({ FifoQueue: true, QueueName: 'image-tasks-aws.fifo', RedrivePolicy: { maxReceiveCount: 3, deadLetterTargetArn: { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] } } });
  expect(queues.DeadLetterQueue.Properties).toMatchObject({ FifoQueue: true, QueueName: 'image-tasks-dlq-aws.fifo' });
  expect(template.Resources.ImageBucket.Properties.PublicAccessBlockConfiguration).toMatchObject({ BlockPublicAcls: true, RestrictPublicBuckets: true });
});

test('three worker functions consume the queue one message at a time, reporting item failures', () => {
  const mappings = ofType('AWS::Lambda::EventSourceMapping').map(([, r]) => r.Properties);
  expect(mappings).toHaveLength(3);
  for (const m of mappings) {
    expect(m).toMatchObject({ BatchSize: 1, FunctionResponseTypes: ['ReportBatchItemFailures'], EventSourceArn: { 'Fn::GetAtt': ['TaskQueue', 'Arn'] } });
  }
  const fns = Object.fromEntries(ofType('AWS::Lambda::Function'));
  const workers = ['Worker1', 'Worker2', 'Worker3'].map((w) => fns[`${w}LambdaFunction`].Properties);
  expect(workers.map((w) => [w.Environment.Variables.WORKER_ID, w.Environment.Variables.WORKER_CAPABILITIES])).toEqual([
    ['worker-1', 'resize,blur,brightness'],
    ['worker-2', 'sharpen,edges'],
    ['worker-3', 'all'],
  ]);
  for (const w of workers) {
    expect(w.Runtime).toBe('nodejs22.x');
    expect(w.Environment.Variables.QUEUE_URL).toEqual({ Ref: 'TaskQueue' });
    expect(w.Environment.Variables.AWS_ENDPOINT_URL).toEqual({ Ref: 'AWS::NoValue' });
    expect(w.Environment.Variables).toMatchObject(IMAGE_PROCESS_ENV);
  }
});

test('the API stage is throttled, worker mappings bounded, batch functions reserved', () => {
  expect(template.Resources.HttpApiStage.Properties.DefaultRouteSettings).toMatchObject({ ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 });
  for (const [, m] of ofType('AWS::Lambda::EventSourceMapping').filter(([, r]) => r.Properties.EventSourceArn?.['Fn::GetAtt']?.[0] === 'TaskQueue')) {
    expect(m.Properties.ScalingConfig.MaximumConcurrency).toBe(2);
  }
  const batch = ofType('AWS::Lambda::Function').filter(([id]) => id.startsWith('Batch'));
  expect(batch.length).toBe(6);
  for (const [, fn] of batch) expect(fn.Properties.ReservedConcurrentExecutions).toBe(2);
});

test('IAM: no wildcard actions, deletes only under uploads/, and lifecycle rules bound what is stored', () => {
  const statements = ofType('AWS::IAM::Role').flatMap(([, r]) => r.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement));
  const actions = statements.flatMap((s: any) => [s.Action].flat());
  for (const a of actions) expect(a).not.toMatch(/\*/);
  const deletes = statements.filter((s: any) => [s.Action].flat().includes('s3:DeleteObject'));
  expect(deletes).toHaveLength(1);
  expect(JSON.stringify(deletes[0].Resource)).toContain('/uploads/*');
  const rules = template.Resources.ImageBucket.Properties.LifecycleConfiguration.Rules;
  expect(rules).toEqual(expect.arrayContaining([expect.objectContaining({ Prefix: 'uploads/', ExpirationInDays: 1 }), expect.objectContaining({ Prefix: 'processed/' })]));
});

test('the HTTP functions are routes of one HTTP API, on the seed paths', () => {
  const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey).sort();
  for (const key of ['GET /api/health/', 'GET /api/image/4k/', 'POST /api/process-batch/distributed/', 'GET /api/task/{task_id}/status/', 'GET /api/workers/status/', 'POST /api/process-batch/compare-all/']) {
    expect(routes).toContain(key);
  }
});

test('the bundle carries the handlers, the pool task and the built dashboard', () => {
  const listing = execFileSync('unzip', ['-l', path.join(outDir, 'image-pipeline.zip')]).toString();
  for (const f of ['handlers/batch.js', 'handlers/worker.js', 'handlers/dashboard.js', 'dashboard/dist/app.js', 'dashboard/dist/index.html', 'node_modules/sharp/package.json', 'node_modules/@techstark/opencv-js/dist/opencv.js']) {
    expect(listing).toContain(f);
  }
  // Pool worker threads load poolTask from the handler bundle itself.
  expect(execFileSync('unzip', ['-p', path.join(outDir, 'image-pipeline.zip'), 'handlers/batch.js'], { maxBuffer: 64 * 2 ** 20 }).toString()).toMatch(/poolTask/);
});

test('the dead-letter sweeper runs as a scheduled function every minute', () => {
  const rules = ofType('AWS::Events::Rule').map(([, r]) => r.Properties);
  expect(rules).toHaveLength(1);
  expect(rules[0]).toMatchObject({ ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' });
  expect(JSON.stringify(rules[0].Targets)).toContain('SweeperLambdaFunction');
  expect(template.Resources.SweeperLambdaFunction.Properties.Handler).toBe('handlers/worker.sweep');
});

test('the task queue and the functions agree on visibility timeout and deliveries before the DLQ', () => {
  const queue = template.Resources.TaskQueue.Properties;
  const env = template.Resources.Worker1LambdaFunction.Properties.Environment.Variables;
  expect(queue.VisibilityTimeout).toBe(360);
  expect(queue.RedrivePolicy.maxReceiveCount).toBe(3);
  expect(env.VISIBILITY_TIMEOUT_S).toBe(String(queue.VisibilityTimeout));
  expect(env.MAX_RECEIVE_COUNT).toBe(String(queue.RedrivePolicy.maxReceiveCount));
});

test('no AWS credentials from the deployer\'s shell reach the template or any artifact', () => {
  // beforeAll packaged with FAKE_KEY_ID / FAKE_SECRET in the environment.
  const files = readdirSync(outDir);
  expect(files).toEqual(expect.arrayContaining(['cloudformation-template-update-stack.json']));
  for (const f of files) {
    const p = path.join(outDir, f);
    const bytes = f.endsWith('.zip') ? execFileSync('unzip', ['-p', p], { maxBuffer: 512 * 2 ** 20 }) : readFileSync(p);
    expect(bytes.includes(FAKE_KEY_ID)).toBe(false);
    expect(bytes.includes(FAKE_SECRET)).toBe(false);
  }
  // The check can see a leak: the template does carry other values from that environment.
  expect(readFileSync(path.join(outDir, 'cloudformation-template-update-stack.json'), 'utf8')).toContain(FAKE_REDIS_HOST);
});
