/**
 * Queue URL lookup. On AWS the URLs come from CloudFormation through QUEUE_URL/DLQ_URL;
 * locally they are resolved once with GetQueueUrl. Emulators match queue URLs by exact
 * string, so only ever use the URL the service returned.
 */
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import type { Clients } from '../core/clients';
import { dependency } from '../core/dependencies';

const cache = new Map<string, Promise<string>>();

export async function lookupQueueUrl(deps: Clients, queueName: string, configured?: string): Promise<string> {
  if (configured) return configured;
  const key = `${deps.config.aws.endpoint ?? 'aws'}|${queueName}`;
  let p = cache.get(key);
  if (!p) {
    p = dependency('sqs', async () => (await deps.sqs.send(new GetQueueUrlCommand({ QueueName: queueName }))).QueueUrl!);
    cache.set(key, p);
    // A failed lookup must not be cached: the emulator may simply not be up yet.
    p.catch(() => cache.delete(key));
  }
  return p;
}

export const taskQueueUrl = (deps: Clients) => lookupQueueUrl(deps, deps.config.aws.queueName, deps.config.aws.queueUrl);
export const deadLetterQueueUrl = (deps: Clients) => lookupQueueUrl(deps, deps.config.aws.dlqName, deps.config.aws.dlqUrl);

/** Messages waiting (visible) and taken but not yet deleted (in flight), as SQS reports them. */
export async function queueDepth(deps: Clients, url: string): Promise<{ visible: number; in_flight: number }> {
  const r = await dependency('sqs', () =>
    deps.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] })),
  );
  return { visible: Number(r.Attributes?.ApproximateNumberOfMessages ?? 0), in_flight: Number(r.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0) };
}
