/**
 * The parts of serverless.yml that follow from definitions in lib/, generated so they cannot
 * drift: the worker functions and their SQS mappings (lib/worker/classes.ts), the task queue
 * and the per-class queues of capability dispatch (lib/tasks/dispatch.ts), one IAM role per function group, the
 * bucket's lifecycle rules (the prefixes of lib/images), and the optional VPC attachment.
 * serverless.yml reaches this through serverless-parts.cjs (`${file(./scripts/aws/serverless-parts.cjs):<part>}`).
 */
import { loadConfig } from '../../lib/core/config';
import { PROCESSED_PREFIX } from '../../lib/images/keys';
import { SOURCE_PREFIX } from '../../lib/images/source';
import { STAGING_PREFIX } from '../../lib/images/uploads';
import { classQueueName, ROUTES, routesServedBy, type Route } from '../../lib/tasks/dispatch';
import { BUILT_IN_WORKERS, builtInCapabilities } from '../../lib/worker/classes';
import { FILTER_NAMES } from '../../lib/filters/registry';

export interface StackInput {
  service: string;
  stage: string;
  /** The task queue's name; class queues are named beside it. */
  queueName: string;
  /** DISPATCH_MODE as the deployer set it ('' = the default), validated like everywhere else. */
  dispatchMode: string;
  workerMaxConcurrency: number;
  visibilityTimeoutS: number;
  maxReceiveCount: number;
  /** API_KEYS_SECRET: the authorizer may read this one parameter or secret and nothing else. */
  apiKeysSecret: string;
  /** REDIS_URL_SECRET: every function that uses Redis may read it. */
  redisUrlSecret: string;
  /** WEBHOOK_SECRET_REF: the webhook sender may read it and nothing else may. */
  webhookSecretRef?: string;
  /** RESULT_TTL_DAYS: results under processed/ expire after this many days ('' = 7). */
  resultTtlDays?: string;
  /** VPC_SUBNET_IDS / VPC_SECURITY_GROUP_IDS, comma-separated; both or neither. */
  vpcSubnetIds: string;
  vpcSecurityGroupIds: string;
}

type Cfn = Record<string, unknown>;

const TASK_QUEUE = 'TaskQueue';
const DEAD_LETTER_QUEUE = 'DeadLetterQueue';
const BUCKET = 'ImageBucket';
export const WORKER_HANDLER = 'handlers/worker.consume';
const WORKER = { handler: WORKER_HANDLER, timeout: 60, memorySize: 2048 };

/** worker-1 → worker1: the function key, so the deployed name is <service>-<stage>-worker1 (docs/deploying.md, WORKER_FUNCTIONS). */
export const workerFunctionKey = (workerId: string) => workerId.replace(/-/g, '');
const logicalPart = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
export const classQueueId = (route: Route) => `${TASK_QUEUE}${logicalPart(route.name)}`;
const workerRoleId = (workerId: string) => `${logicalPart(workerFunctionKey(workerId))}Role`;

export function dispatchModeOf(raw: string): 'fifo' | 'capability' {
  return loadConfig({ DISPATCH_MODE: raw || undefined }).dispatch.mode;
}

/** The queues a built-in worker consumes on the deployed stage: what scripts/worker.ts consumes locally. */
export function queuesConsumedBy(workerId: string, mode: 'fifo' | 'capability'): string[] {
  if (mode === 'fifo') return [TASK_QUEUE];
  return routesServedBy(builtInCapabilities(workerId)!).map(classQueueId);
}

const arn = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
const objects = (prefix: string) => ({ 'Fn::Join': ['', [arn(BUCKET), `/${prefix}*`]] });
const allow = (Action: string[], Resource: unknown) => ({ Effect: 'Allow', Action, Resource });

/** Reading one SSM parameter or Secrets Manager secret (lib/core/secrets.ts reads either). */
const readSecretGrant = (ref: string) => allow(['ssm:GetParameter', 'secretsmanager:GetSecretValue'], ref);

/** Roles of functions that use Redis may read the secret holding its URL, when there is one. */
function redisUrlGrant(input: StackInput): Cfn[] {
  return input.redisUrlSecret ? [readSecretGrant(input.redisUrlSecret)] : [];
}

function role(input: StackInput, statements: Cfn[], inVpc: boolean): Cfn {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: ['lambda.amazonaws.com'] }, Action: ['sts:AssumeRole'] }],
      },
      // The managed policy only grants the ENI calls a function in a VPC needs.
      ManagedPolicyArns: inVpc ? [{ 'Fn::Sub': 'arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole' }] : [],
      Policies: [
        {
          PolicyName: 'least-privilege',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              // serverless.yml creates the log groups; functions only write to this service's.
              allow(['logs:CreateLogStream', 'logs:PutLogEvents'], {
                'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${input.service}-${input.stage}-*:*`,
              }),
              ...statements,
            ],
          },
        },
      ],
    },
  };
}

/** The webhookSender function of serverless.yml, by name (no reference: the API role must not wait for it). */
function webhookSenderArn(input: Pick<StackInput, 'service' | 'stage'>): Cfn {
  return { 'Fn::Sub': `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:${input.service}-${input.stage}-webhookSender` };
}

export interface Vpc {
  subnetIds: string[];
  securityGroupIds: string[];
}

/** What to say when the aws stage is packaged without API_KEYS_SECRET (a deployment is never open). */
export const MISSING_API_KEYS_SECRET =
  'API_KEYS_SECRET is not set: the aws stage needs the SSM parameter or Secrets Manager secret holding its API keys, e.g. API_KEYS_SECRET=arn:aws:ssm:us-east-1:123456789012:parameter/image-pipeline/api-keys (docs/deploying.md)';

/** The authorizer's API_KEYS_SECRET: required on the aws stage, empty (keys from API_KEYS or none) on the offline ones. */
export function requiredApiKeysSecret(input: Pick<StackInput, 'stage' | 'apiKeysSecret'>): string {
  if (input.stage === 'aws' && !input.apiKeysSecret) throw new Error(MISSING_API_KEYS_SECRET);
  return input.apiKeysSecret;
}

export function vpcOf(input: Pick<StackInput, 'vpcSubnetIds' | 'vpcSecurityGroupIds'>): Vpc | undefined {
  const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
  const subnetIds = list(input.vpcSubnetIds);
  const securityGroupIds = list(input.vpcSecurityGroupIds);
  if (subnetIds.length === 0 && securityGroupIds.length === 0) return undefined;
  if (subnetIds.length === 0 || securityGroupIds.length === 0) {
    throw new Error('VPC_SUBNET_IDS and VPC_SECURITY_GROUP_IDS go together: set both (comma-separated) to run the functions in a VPC, or neither');
  }
  const bad = [...subnetIds.filter((s) => !/^subnet-[0-9a-f]{8,17}$/.test(s)), ...securityGroupIds.filter((s) => !/^sg-[0-9a-f]{8,17}$/.test(s))];
  if (bad.length) throw new Error(`not a subnet-… / sg-… id: ${bad.join(', ')}`);
  return { subnetIds, securityGroupIds };
}

/** The capabilities a built-in worker's function declares: its class's filters, or "all". */
function declaredCapabilities(workerId: string): string {
  const caps = builtInCapabilities(workerId)!;
  return caps.length === FILTER_NAMES.length ? 'all' : caps.join(',');
}

export function workerFunctions(input: StackInput): Record<string, Cfn> {
  const mode = dispatchModeOf(input.dispatchMode);
  return Object.fromEntries(
    Object.keys(BUILT_IN_WORKERS).map((id) => [
      workerFunctionKey(id),
      {
        ...WORKER,
        role: workerRoleId(id),
        environment: { WORKER_ID: id, WORKER_CAPABILITIES: declaredCapabilities(id) },
        events: queuesConsumedBy(id, mode).map((queue) => ({
          sqs: { arn: arn(queue), batchSize: 1, maximumConcurrency: input.workerMaxConcurrency, functionResponseType: 'ReportBatchItemFailures' },
        })),
      },
    ]),
  );
}

/** WORKER_FUNCTIONS for lib/worker/liveness.ts: worker id → deployed function name. */
export function workerFunctionNames(input: StackInput): string {
  return Object.keys(BUILT_IN_WORKERS)
    .map((id) => `${id}=${input.service}-${input.stage}-${workerFunctionKey(id)}`)
    .join(',');
}

/**
 * RESULT_TTL_DAYS for the bucket's lifecycle rule, as the local stack applies it. Lifecycle
 * rules count whole days, so the aws stage takes a whole number (locally a decimal is fine).
 */
export function resultTtlDaysOf(raw: string): number {
  const text = raw.trim() || '7';
  const days = Number(text);
  if (!/^\d+$/.test(text) || days < 1 || days > 3650) {
    throw new Error(`RESULT_TTL_DAYS must be a whole number of days from 1 to 3650 on the aws stage (S3 lifecycle rules count whole days); got "${raw}"`);
  }
  return days;
}

export function lifecycleRules(input: Pick<StackInput, 'stage' | 'resultTtlDays'>): Cfn[] {
  // The local stage's bucket is never deployed (npm start's housekeeping applies
  // RESULT_TTL_DAYS there, decimals included): only a deployed stage needs whole days.
  const days = input.stage === 'local' ? 7 : resultTtlDaysOf(input.resultTtlDays ?? '');
  return [
    { Id: 'expire-processed', Status: 'Enabled', Prefix: PROCESSED_PREFIX, ExpirationInDays: days },
    // Large-upload staging: an upload never completed would otherwise stay forever.
    { Id: 'expire-uploads', Status: 'Enabled', Prefix: STAGING_PREFIX, ExpirationInDays: 1 },
    { Id: 'abort-incomplete-multipart', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
  ];
}

/** A task queue: FIFO, explicit deduplication ids, dead-lettering into the one DLQ after maxReceiveCount. */
function taskQueue(input: StackInput, queueName: string): Cfn {
  return {
    Type: 'AWS::SQS::Queue',
    Properties: {
      QueueName: queueName,
      FifoQueue: true,
      ContentBasedDeduplication: false,
      VisibilityTimeout: input.visibilityTimeoutS,
      RedrivePolicy: { deadLetterTargetArn: arn(DEAD_LETTER_QUEUE), maxReceiveCount: input.maxReceiveCount },
    },
  };
}

/** The task queue and the per-class queues, the roles, and their outputs. */
export function resources(input: StackInput): { Resources: Record<string, Cfn>; Outputs: Record<string, Cfn> } {
  const mode = dispatchModeOf(input.dispatchMode);
  const inVpc = vpcOf(input) !== undefined;
  const Resources: Record<string, Cfn> = { [TASK_QUEUE]: taskQueue(input, input.queueName) };
  const Outputs: Record<string, Cfn> = { [`${TASK_QUEUE}Url`]: { Value: { Ref: TASK_QUEUE } } };
  // One class queue per worker class, with the task queue's settings and DLQ: /api/dlq/ and the sweeper see every class.
  for (const route of ROUTES) {
    Resources[classQueueId(route)] = taskQueue(input, classQueueName(input.queueName, route));
    Outputs[`${classQueueId(route)}Url`] = { Value: { Ref: classQueueId(route) } };
  }
  const taskQueues = [TASK_QUEUE, ...ROUTES.map(classQueueId)];

  // HTTP functions: enqueue to any task queue, read queue depths, list and redrive the DLQ,
  // serve and accept images, write batch results, stage and verify large uploads.
  Resources.ApiRole = role(
    input,
    [
      allow(['sqs:SendMessage', 'sqs:GetQueueUrl', 'sqs:GetQueueAttributes'], [...taskQueues, DEAD_LETTER_QUEUE].map(arn)),
      allow(['sqs:ReceiveMessage', 'sqs:DeleteMessage'], arn(DEAD_LETTER_QUEUE)),
      // ListBucket: the image list, HeadBucket for health, and 404 (not 403) for a missing image.
      allow(['s3:ListBucket'], arn(BUCKET)),
      allow(['s3:GetObject'], [SOURCE_PREFIX, PROCESSED_PREFIX, STAGING_PREFIX].map(objects)),
      allow(['s3:PutObject'], [SOURCE_PREFIX, PROCESSED_PREFIX, STAGING_PREFIX].map(objects)),
      // Completing a large upload deletes its staged object; nothing else is ever deleted.
      allow(['s3:DeleteObject'], objects(STAGING_PREFIX)),
      // GET /api/workers/status/ reads whether each worker's mapping is enabled;
      // ListEventSourceMappings has no resource-level permissions.
      allow(['lambda:ListEventSourceMappings'], '*'),
      // A job submitted with a notify_url, and POST /api/jobs/{id}/deliveries/redeliver/, start the webhook sender at once.
      allow(['lambda:InvokeFunction'], webhookSenderArn(input)),
      ...redisUrlGrant(input),
    ],
    inVpc,
  );
  // The authorizer reads the keys and nothing else; it never runs in the VPC (it needs no Redis).
  Resources.AuthorizerRole = role(input, [readSecretGrant(input.apiKeysSecret || 'arn:aws:ssm:us-east-1:000000000000:parameter/image-pipeline-no-keys')], false);
  // The dead-letter sweeper looks at the DLQ (receive, then make visible again); a task it sends
  // back once (lib/tasks/sweeper.ts sendsAgain) goes to its task queue and leaves the DLQ.
  Resources.SweeperRole = role(
    input,
    [
      allow(['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueUrl', 'sqs:GetQueueAttributes'], arn(DEAD_LETTER_QUEUE)),
      allow(['sqs:SendMessage', 'sqs:GetQueueUrl'], taskQueues.map(arn)),
      ...redisUrlGrant(input),
    ],
    inVpc,
  );
  // The webhook sender: Redis, and the signing secret. It POSTs to receivers on the internet:
  // outside a VPC Lambda has that egress; in one, only through a NAT gateway (docs/webhooks.md).
  Resources.WebhookSenderRole = role(input, [...(input.webhookSecretRef ? [readSecretGrant(input.webhookSecretRef)] : []), ...redisUrlGrant(input)], inVpc);
  // Each worker: its own queues only, read source/, write processed/.
  for (const id of Object.keys(BUILT_IN_WORKERS)) {
    Resources[workerRoleId(id)] = role(
      input,
      [
        allow(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'], queuesConsumedBy(id, mode).map(arn)),
        allow(['s3:ListBucket'], arn(BUCKET)),
        allow(['s3:GetObject'], objects(SOURCE_PREFIX)),
        allow(['s3:PutObject'], objects(PROCESSED_PREFIX)),
        ...redisUrlGrant(input),
      ],
      inVpc,
    );
  }
  return { Resources, Outputs };
}
