// The aws stage with DISPATCH_MODE=capability and a VPC: each worker function's mappings are
// the class queues it fully covers — the queues `npm run worker` consumes locally in that mode
// (scripts/worker.ts, routesServedBy) — and its role reaches those queues only.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { ROUTES, routesServedBy } from '../../lib/tasks/dispatch';
import { BUILT_IN_WORKERS, builtInCapabilities } from '../../lib/worker/classes';
import { resultTtlDaysOf } from '../../scripts/aws/stack';
import { packageAwsStage, resourcesOfType, ROOT, type CfnTemplate } from '../helpers/aws-package';

const SUBNETS = ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'];
const SECURITY_GROUP = 'sg-0123456789abcdef0';
const REDIS_SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:image-pipeline-redis-AbCdEf';
let template: CfnTemplate;
let outDir: string;

beforeAll(async () => {
  ({ dir: outDir, template } = await packageAwsStage({
    DISPATCH_MODE: 'capability',
    VPC_SUBNET_IDS: SUBNETS.join(','),
    VPC_SECURITY_GROUP_IDS: SECURITY_GROUP,
    REDIS_URL: '',
    REDIS_URL_SECRET: REDIS_SECRET,
    RESULT_TTL_DAYS: '30',
  }));
}, 300_000);
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

const classQueueId = (name: string) => `TaskQueue${name[0].toUpperCase()}${name.slice(1)}`;

function workerFunction(id: string) {
  return resourcesOfType(template, 'AWS::Lambda::Function').find(([, f]) => f.Properties.Environment?.Variables?.WORKER_ID === id)!;
}

test('each worker function consumes exactly the class queues it covers, as the local worker does', () => {
  const mappings = resourcesOfType(template, 'AWS::Lambda::EventSourceMapping').map(([, m]) => m.Properties);
  for (const id of Object.keys(BUILT_IN_WORKERS)) {
    const [logicalId] = workerFunction(id);
    const queues = mappings.filter((m) => m.FunctionName['Fn::GetAtt'][0] === logicalId).map((m) => m.EventSourceArn['Fn::GetAtt'][0]);
    expect(queues.sort()).toEqual(routesServedBy(builtInCapabilities(id)!).map((r) => classQueueId(r.name)).sort());
  }
  // Every class has a consumer; nothing consumes the FIFO task queue, which capability dispatch does not use.
  const consumed = new Set(mappings.map((m) => m.EventSourceArn['Fn::GetAtt'][0]));
  expect([...consumed].sort()).toEqual(ROUTES.map((r) => classQueueId(r.name)).sort());
  for (const m of mappings) expect(m.ScalingConfig.MaximumConcurrency).toBe(2);
});

test('the functions dispatch by capability and each worker role reaches only its own queues', () => {
  for (const id of Object.keys(BUILT_IN_WORKERS)) {
    const [, fn] = workerFunction(id);
    expect(fn.Properties.Environment.Variables.DISPATCH_MODE).toBe('capability');
    const role = template.Resources[fn.Properties.Role['Fn::GetAtt'][0]];
    const receive = role.Properties.Policies[0].PolicyDocument.Statement.find((s: any) => s.Action.includes('sqs:ReceiveMessage'));
    expect(receive.Resource.map((r: any) => r['Fn::GetAtt'][0]).sort()).toEqual(routesServedBy(builtInCapabilities(id)!).map((r) => classQueueId(r.name)).sort());
  }
});

test('with VPC variables every function but the authorizer runs in the VPC, and its role may attach to it', () => {
  for (const [id, fn] of resourcesOfType(template, 'AWS::Lambda::Function')) {
    const role = template.Resources[fn.Properties.Role['Fn::GetAtt'][0]].Properties;
    const vpcPolicy = JSON.stringify(role.ManagedPolicyArns).includes('AWSLambdaVPCAccessExecutionRole');
    if (id === 'AuthorizerLambdaFunction') {
      expect(fn.Properties.VpcConfig).toBeUndefined();
      expect(vpcPolicy).toBe(false);
    } else {
      expect(fn.Properties.VpcConfig).toEqual({ SubnetIds: SUBNETS, SecurityGroupIds: [SECURITY_GROUP] });
      expect(vpcPolicy).toBe(true);
    }
  }
});

test('with REDIS_URL_SECRET the URL is read at cold start: only its reference is deployed, and only Redis users may read it', () => {
  for (const [id, fn] of resourcesOfType(template, 'AWS::Lambda::Function')) {
    expect(fn.Properties.Environment.Variables.REDIS_URL_SECRET).toBe(REDIS_SECRET);
    expect(fn.Properties.Environment.Variables.REDIS_URL ?? '').toBe('');
    const statements = template.Resources[fn.Properties.Role['Fn::GetAtt'][0]].Properties.Policies[0].PolicyDocument.Statement;
    const readsIt = statements.some((s: any) => s.Action.includes('secretsmanager:GetSecretValue') && s.Resource === REDIS_SECRET);
    expect(readsIt).toBe(id !== 'AuthorizerLambdaFunction');
  }
});

test('RESULT_TTL_DAYS sets the days of the processed/ lifecycle rule', () => {
  const rules = template.Resources.ImageBucket.Properties.LifecycleConfiguration.Rules;
  expect(rules.find((r: any) => r.Prefix === 'processed/')).toMatchObject({ Status: 'Enabled', ExpirationInDays: 30 });
});

test('packaging refuses a bad DISPATCH_MODE, half a VPC or a RESULT_TTL_DAYS lifecycle rules cannot hold, naming the variable', () => {
  const sls = (env: Record<string, string>) => {
    try {
      execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'osls', 'bin', 'serverless.js'), 'print', '--stage', 'aws'], {
        cwd: ROOT,
        env: { ...process.env, SLS_TELEMETRY_DISABLED: '1', API_KEYS_SECRET: 'arn:aws:ssm:us-east-1:123456789012:parameter/k', ...env },
        stdio: 'pipe',
      });
      return '';
    } catch (e) {
      return String((e as { stderr?: Buffer }).stderr ?? '') + String((e as { stdout?: Buffer }).stdout ?? '');
    }
  };
  expect(sls({ DISPATCH_MODE: 'round-robin' })).toMatch(/DISPATCH_MODE.*fifo or capability/);
  expect(sls({ VPC_SUBNET_IDS: SUBNETS[0], VPC_SECURITY_GROUP_IDS: '' })).toMatch(/VPC_SUBNET_IDS and VPC_SECURITY_GROUP_IDS go together/);
  expect(sls({ VPC_SUBNET_IDS: 'subnet-nothex', VPC_SECURITY_GROUP_IDS: SECURITY_GROUP })).toMatch(/not a subnet-… \/ sg-… id: subnet-nothex/);
  expect(sls({ RESULT_TTL_DAYS: '1.5' })).toMatch(/RESULT_TTL_DAYS must be a whole number of days from 1 to 3650 on the aws stage .*got "1\.5"/);
  for (const bad of ['0', '3651', 'week', '-2', '1e2']) expect(() => resultTtlDaysOf(bad)).toThrow(`got "${bad}"`);
  expect([resultTtlDaysOf(''), resultTtlDaysOf(' 14 '), resultTtlDaysOf('3650')]).toEqual([7, 14, 3650]);
}, 120_000);
