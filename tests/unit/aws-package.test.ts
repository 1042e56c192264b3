// The aws stage's CloudFormation template and artifact, as `npm run package:aws` makes them.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { IMAGE_PROCESS_ENV } from '../../lib/core/process-env';
import { FILTER_NAMES } from '../../lib/filters/registry';
import { ROUTES } from '../../lib/tasks/dispatch';
import { BUILT_IN_WORKERS, builtInCapabilities } from '../../lib/worker/classes';
import { packageAwsStage, resourcesOfType, SECRET_ARN, type CfnTemplate } from '../helpers/aws-package';

let template: CfnTemplate;
let outDir: string;
let packageLog: string;
// Distinctive values in the deployer's environment, searched for in everything packaged.
const FAKE_KEY_ID = 'AKIAFAKEDEPLOYERKEY7';
const FAKE_SECRET = 'fakeDeployerSecret/wJalrXUtnFEMI/K7MDENG';
const FAKE_REDIS_HOST = 'redis-fake-host.example';
const FAKE_WEBHOOK_SECRET = 'plain-webhook-secret-from-the-shell';
const WEBHOOK_SECRET_REF = 'arn:aws:ssm:us-east-1:123456789012:parameter/image-pipeline/webhook-secret';

beforeAll(async () => {
  ({ dir: outDir, template, log: packageLog } = await packageAwsStage({
    AWS_ACCESS_KEY_ID: FAKE_KEY_ID,
    AWS_SECRET_ACCESS_KEY: FAKE_SECRET,
    REDIS_URL: `rediss://${FAKE_REDIS_HOST}:6379`,
    WEBHOOK_SECRET: FAKE_WEBHOOK_SECRET,
    WEBHOOK_SECRET_REF,
    DISPATCH_MODE: '',
    VPC_SUBNET_IDS: '',
    VPC_SECURITY_GROUP_IDS: '',
    RESULT_TTL_DAYS: '',
  }));
}, 300_000);
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

const ofType = (type: string) => resourcesOfType(template, type);

test('a FIFO task queue with a FIFO dead-letter queue and a redrive policy', () => {
  const queues = Object.fromEntries(ofType('AWS::SQS::Queue'));
  expect(queues.TaskQueue.Properties).toMatchObject({ FifoQueue: true, QueueName: 'image-tasks-aws.fifo', RedrivePolicy: { maxReceiveCount: 3, deadLetterTargetArn: { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] } } });
  expect(queues.DeadLetterQueue.Properties).toMatchObject({ FifoQueue: true, QueueName: 'image-tasks-dlq-aws.fifo' });
  expect(template.Resources.ImageBucket.Properties.PublicAccessBlockConfiguration).toMatchObject({ BlockPublicAcls: true, RestrictPublicBuckets: true });
});

test('one worker function per built-in worker, each consuming the task queue one message at a time', () => {
  const mappings = ofType('AWS::Lambda::EventSourceMapping').map(([, r]) => r.Properties);
  expect(mappings).toHaveLength(Object.keys(BUILT_IN_WORKERS).length);
  for (const m of mappings) {
    expect(m).toMatchObject({ BatchSize: 1, FunctionResponseTypes: ['ReportBatchItemFailures'], EventSourceArn: { 'Fn::GetAtt': ['TaskQueue', 'Arn'] } });
  }
  const fns = Object.fromEntries(ofType('AWS::Lambda::Function'));
  const workers = Object.entries(fns).filter(([, f]) => f.Properties.Handler === 'handlers/worker.consume').map(([, f]) => f.Properties);
  expect(workers.map((w) => w.Environment.Variables.WORKER_ID).sort()).toEqual(Object.keys(BUILT_IN_WORKERS).sort());
  for (const w of workers) {
    const caps = w.Environment.Variables.WORKER_CAPABILITIES;
    expect(caps === 'all' ? [...FILTER_NAMES] : caps.split(',')).toEqual([...builtInCapabilities(w.Environment.Variables.WORKER_ID)!]);
    expect(w.Environment.Variables.QUEUE_URL).toEqual({ Ref: 'TaskQueue' });
    expect(w.Environment.Variables.AWS_ENDPOINT_URL).toEqual({ Ref: 'AWS::NoValue' });
    expect(w.Environment.Variables).toMatchObject(IMAGE_PROCESS_ENV);
  }
  // Worker status on Lambda names each worker's deployed function.
  expect(fns.HealthLambdaFunction.Properties.Environment.Variables.WORKER_FUNCTIONS).toBe('worker-1=image-pipeline-aws-worker1,worker-2=image-pipeline-aws-worker2,worker-3=image-pipeline-aws-worker3');
});

test('the class queues of capability dispatch exist beside the task queue, dead-lettering into the same DLQ', () => {
  const queues = Object.fromEntries(ofType('AWS::SQS::Queue'));
  for (const route of ROUTES) {
    expect(queues[`TaskQueue${route.name[0].toUpperCase()}${route.name.slice(1)}`].Properties).toEqual({
      ...queues.TaskQueue.Properties,
      QueueName: `image-tasks-aws-${route.name}.fifo`,
    });
  }
  expect(Object.keys(queues)).toHaveLength(2 + ROUTES.length);
});

test('serverless.yml passes the framework\'s own schema: no "Invalid configuration" warning', () => {
  expect(packageLog).not.toMatch(/Invalid configuration/i);
});

test('the API stage is throttled, worker mappings bounded, batch functions reserved', () => {
  expect(template.Resources.HttpApiStage).toMatchObject({ Type: 'AWS::ApiGatewayV2::Stage' });
  expect(template.Resources.HttpApiStage.Properties.DefaultRouteSettings).toMatchObject({ ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 });
  for (const [, m] of ofType('AWS::Lambda::EventSourceMapping').filter(([, r]) => r.Properties.EventSourceArn?.['Fn::GetAtt']?.[0] === 'TaskQueue')) {
    expect(m.Properties.ScalingConfig.MaximumConcurrency).toBe(2);
  }
  const batch = ofType('AWS::Lambda::Function').filter(([id]) => id.startsWith('Batch'));
  expect(batch.length).toBe(6);
  for (const [, fn] of batch) expect(fn.Properties.ReservedConcurrentExecutions).toBe(2);
});

const statementsOf = (roleId: string) => template.Resources[roleId].Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);
const grants = (roleId: string, action: string) => statementsOf(roleId).filter((s: any) => [s.Action].flat().includes(action)).flatMap((s: any) => [s.Resource].flat()).map((r: any) => JSON.stringify(r));

test('IAM: no wildcard actions, deletes only under uploads/, and lifecycle rules bound what is stored', () => {
  const statements = ofType('AWS::IAM::Role').flatMap(([, r]) => r.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement));
  const actions = statements.flatMap((s: any) => [s.Action].flat());
  for (const a of actions) expect(a).not.toMatch(/\*/);
  const deletes = statements.filter((s: any) => [s.Action].flat().includes('s3:DeleteObject'));
  expect(deletes).toHaveLength(1);
  expect(JSON.stringify(deletes[0].Resource)).toContain('/uploads/*');
  const rules = template.Resources.ImageBucket.Properties.LifecycleConfiguration.Rules;
  expect(rules).toEqual(expect.arrayContaining([expect.objectContaining({ Prefix: 'uploads/', ExpirationInDays: 1 }), expect.objectContaining({ Prefix: 'processed/', ExpirationInDays: 7 })]));
});

test('IAM: one role per function group, each with only what its functions use', () => {
  const fns = ofType('AWS::Lambda::Function');
  const roleOf = (handler: string) => fns.filter(([, f]) => f.Properties.Handler === handler).map(([, f]) => f.Properties.Role['Fn::GetAtt'][0]);
  // Every HTTP function shares the API role; the authorizer, the sweeper, the webhook sender and each worker have their own.
  expect(new Set(fns.filter(([, f]) => !/worker\.|authorizer\./.test(f.Properties.Handler)).map(([, f]) => f.Properties.Role['Fn::GetAtt'][0]))).toEqual(new Set(['ApiRole']));
  expect(roleOf('handlers/authorizer.authorize')).toEqual(['AuthorizerRole']);
  expect(roleOf('handlers/worker.sweep')).toEqual(['SweeperRole']);
  expect(roleOf('handlers/worker.deliverWebhooks')).toEqual(['WebhookSenderRole']);
  expect(new Set(roleOf('handlers/worker.consume')).size).toBe(Object.keys(BUILT_IN_WORKERS).length);
  expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();

  // Only the authorizer reads the keys, and only the configured parameter.
  expect(grants('AuthorizerRole', 'ssm:GetParameter')).toEqual([JSON.stringify(SECRET_ARN)]);
  expect(grants('ApiRole', 'ssm:GetParameter')).toEqual([]);
  // Workers: receive and delete from their own queue only, read source/, write processed/; never send, never delete objects.
  for (const id of ['Worker1Role', 'Worker2Role', 'Worker3Role']) {
    expect(grants(id, 'sqs:DeleteMessage')).toEqual([JSON.stringify({ 'Fn::GetAtt': ['TaskQueue', 'Arn'] })]);
    expect(grants(id, 'sqs:SendMessage')).toEqual([]);
    expect(grants(id, 's3:GetObject')).toEqual([expect.stringContaining('/source/*')]);
    expect(grants(id, 's3:PutObject')).toEqual([expect.stringContaining('/processed/*')]);
    expect(grants(id, 's3:DeleteObject')).toEqual([]);
  }
  // The API sends to every task queue but consumes only the DLQ (listing and redrive).
  expect(grants('ApiRole', 'sqs:SendMessage')).toHaveLength(2 + ROUTES.length);
  expect(grants('ApiRole', 'sqs:ReceiveMessage')).toEqual([JSON.stringify({ 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] })]);
  expect(grants('SweeperRole', 'sqs:ReceiveMessage')).toEqual([JSON.stringify({ 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] })]);
  // The sweeper deletes only dead letters it sent back, and sends them to the task queues only.
  expect(grants('SweeperRole', 'sqs:DeleteMessage')).toEqual([JSON.stringify({ 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] })]);
  expect(grants('SweeperRole', 'sqs:SendMessage')).toHaveLength(1 + ROUTES.length);
  expect(grants('SweeperRole', 'sqs:SendMessage')).not.toContain(JSON.stringify({ 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] }));
  expect(grants('SweeperRole', 's3:GetObject')).toEqual([]);
  // No VPC unless asked for (tests/unit/aws-capability-stage.test.ts packages with one).
  for (const [, f] of fns) expect(f.Properties.VpcConfig).toBeUndefined();
});

test('the HTTP functions are routes of one HTTP API, on the seed paths', () => {
  const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey).sort();
  for (const key of ['GET /api/health/', 'GET /api/image/4k/', 'POST /api/process-batch/distributed/', 'GET /api/task/{task_id}/status/', 'GET /api/workers/status/', 'POST /api/process-batch/compare-all/']) {
    expect(routes).toContain(key);
  }
});

test('the bundle carries the handlers, the pool task, the built dashboard and both OpenCV.js builds', () => {
  const listing = execFileSync('unzip', ['-l', path.join(outDir, 'image-pipeline.zip')]).toString();
  for (const f of ['handlers/batch.js', 'handlers/worker.js', 'handlers/dashboard.js', 'dashboard/dist/app.js', 'dashboard/dist/index.html', 'node_modules/sharp/package.json', 'node_modules/@techstark/opencv-js/dist/opencv.js', 'vendor/opencv-simd/opencv_js.js']) {
    expect(listing).toContain(f);
  }
  // Pool worker threads load poolTask from the handler bundle itself.
  expect(execFileSync('unzip', ['-p', path.join(outDir, 'image-pipeline.zip'), 'handlers/batch.js'], { maxBuffer: 64 * 2 ** 20 }).toString()).toMatch(/poolTask/);
});

test('the dead-letter sweeper and the webhook sender run as scheduled functions every minute', () => {
  const rules = ofType('AWS::Events::Rule').map(([, r]) => r.Properties);
  expect(rules).toHaveLength(2);
  for (const r of rules) expect(r).toMatchObject({ ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' });
  expect(rules.map((r) => JSON.stringify(r.Targets).match(/"(\w+LambdaFunction)"/)?.[1]).sort()).toEqual(['SweeperLambdaFunction', 'WebhookSenderLambdaFunction']);
  expect(template.Resources.SweeperLambdaFunction.Properties.Handler).toBe('handlers/worker.sweep');
  expect(template.Resources.WebhookSenderLambdaFunction.Properties.Handler).toBe('handlers/worker.deliverWebhooks');
});

test('webhooks: only the sender reads the signing secret, never in plain text; no private addresses; redeliver may wake the sender', () => {
  const fns = ofType('AWS::Lambda::Function');
  for (const [, f] of fns) {
    const env = f.Properties.Environment?.Variables ?? {};
    // CloudFormation drops a NoValue variable: the function has none.
    expect([undefined, JSON.stringify({ Ref: 'AWS::NoValue' })]).toContain(env.WEBHOOK_SECRET === undefined ? undefined : JSON.stringify(env.WEBHOOK_SECRET));
    if (f.Properties.Handler !== 'handlers/authorizer.authorize') {
      expect(env).toMatchObject({ WEBHOOK_SECRET_REF, WEBHOOK_ALLOW_PRIVATE: 'false', WEBHOOK_SENDER_FUNCTION: 'image-pipeline-aws-webhookSender' });
    }
  }
  const sender = template.Resources.WebhookSenderLambdaFunction.Properties;
  expect(sender.Role).toEqual({ 'Fn::GetAtt': ['WebhookSenderRole', 'Arn'] });
  // Room for two attempts of the longest WEBHOOK_TIMEOUT_MS (30 s) after its 55 s of polling.
  expect(sender.Timeout).toBeGreaterThanOrEqual(55 + 60);
  expect(grants('WebhookSenderRole', 'ssm:GetParameter')).toEqual([JSON.stringify(WEBHOOK_SECRET_REF)]);
  expect(grants('WebhookSenderRole', 'sqs:SendMessage')).toEqual([]);
  expect(grants('WebhookSenderRole', 's3:GetObject')).toEqual([]);
  for (const role of ['ApiRole', 'AuthorizerRole', 'SweeperRole', 'Worker1Role']) expect(grants(role, 'ssm:GetParameter')).not.toContain(JSON.stringify(WEBHOOK_SECRET_REF));
  expect(grants('ApiRole', 'lambda:InvokeFunction')).toEqual([expect.stringContaining('function:image-pipeline-aws-webhookSender')]);
  const routes = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey);
  expect(routes).toEqual(expect.arrayContaining(['GET /api/jobs/{job_id}/deliveries/', 'POST /api/jobs/{job_id}/deliveries/redeliver/']));
  const files = readdirSync(outDir);
  for (const f of files) {
    const p = path.join(outDir, f);
    const bytes = f.endsWith('.zip') ? execFileSync('unzip', ['-p', p], { maxBuffer: 512 * 2 ** 20 }) : readFileSync(p);
    expect(bytes.includes(FAKE_WEBHOOK_SECRET)).toBe(false);
  }
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

test('every function runs on nodejs24.x, the active LTS', () => {
  const fns = ofType('AWS::Lambda::Function').map(([name, f]) => [name, f.Properties.Runtime]);
  expect(fns.length).toBeGreaterThan(10);
  for (const [name, runtime] of fns) expect({ name, runtime }).toEqual({ name, runtime: 'nodejs24.x' });
});
