/**
 * Creates the queues, bucket and sample images idempotently. Used by `npm start` and the
 * test harness; LocalStack does the same from localstack/init/ready.d, and AWS from
 * serverless.yml's CloudFormation resources.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { CreateBucketCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { Clients } from '../../lib/core/clients';
import { ROUTES, routeQueueName } from '../../lib/tasks/dispatch';
import { contentTypeFor, IMAGE_FILE, SOURCE_PREFIX } from '../../lib/images/source';

export const STATIC_DIR = path.resolve(__dirname, '..', '..', 'static');

export interface ProvisionedResources {
  queueUrl: string;
  dlqUrl: string;
  routeQueueUrls: Record<string, string>;
  bucket: string;
  uploaded: string[];
  unchanged: string[];
}

async function createFifoQueue(deps: Clients, name: string, attributes: Record<string, string>): Promise<string> {
  const res = await deps.sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'false', ...attributes },
    }),
  );
  return res.QueueUrl!;
}

async function ensureBucket(deps: Clients, bucket: string): Promise<void> {
  try {
    await deps.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (e) {
    const name = (e as Error).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw e;
  }
}

async function uploadSamples(deps: Clients, bucket: string, dir: string) {
  const uploaded: string[] = [];
  const unchanged: string[] = [];
  const files = (await readdir(dir)).filter((f) => IMAGE_FILE.test(f)).sort();
  for (const file of files) {
    const bytes = await readFile(path.join(dir, file));
    const md5 = createHash('md5').update(bytes).digest('hex');
    const key = SOURCE_PREFIX + file;
    const existing = await deps.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
    if (existing?.ETag?.replace(/"/g, '') === md5) {
      unchanged.push(file);
      continue;
    }
    await deps.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: bytes, ContentType: contentTypeFor(file) }));
    uploaded.push(file);
  }
  return { uploaded, unchanged };
}

export async function provision(deps: Clients, opts: { staticDir?: string } = {}): Promise<ProvisionedResources> {
  const { dlqName, queueName, bucket, visibilityTimeoutS, maxReceiveCount } = deps.config.aws;
  const dlqUrl = await createFifoQueue(deps, dlqName, { MessageRetentionPeriod: String(14 * 24 * 3600) });
  const dlqArn = (
    await deps.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes!.QueueArn!;
  const taskQueueAttributes = {
    VisibilityTimeout: String(visibilityTimeoutS),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount }),
  };
  const queueUrl = await createFifoQueue(deps, queueName, taskQueueAttributes);
  // The per-class queues of capability dispatch, so either mode works on the same resources.
  const routeQueueUrls: Record<string, string> = {};
  for (const route of ROUTES) routeQueueUrls[route.name] = await createFifoQueue(deps, routeQueueName(deps, route), taskQueueAttributes);
  await ensureBucket(deps, bucket);
  const { uploaded, unchanged } = await uploadSamples(deps, bucket, opts.staticDir ?? STATIC_DIR);
  return { queueUrl, dlqUrl, routeQueueUrls, bucket, uploaded, unchanged };
}
