/**
 * The dead-letter queue: list what is in it (GET /api/dlq/) and send it back to work
 * (POST /api/dlq/redrive/). Listing receives with a 1 s visibility, the only way SQS lets
 * anyone look at messages; it raises their receive counts, which a DLQ does not act on.
 */
import { DeleteMessageCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import type { Clients } from '../core/clients';
import { dependency } from '../core/dependencies';
import { sleep } from '../core/time';
import { deadLetterQueueUrl, queueDepth } from './queues';
import { z } from 'zod';
import { decimalNumber, parseWith } from '../core/validate';
import { ValidationError } from '../core/errors';
import { readTaskMessage, validateTaskMessage } from './message';
import { getTask, requeueTask, type TaskMessage } from './store';
import { sendTaskAgain } from './submit';

/** How long a listing hides the dead letters it shows (SQS has no other way to look). */
const LIST_VISIBILITY_S = 1;
/** How long a redrive holds the dead letters it is moving. */
const REDRIVE_VISIBILITY_S = 30;

const max = () => decimalNumber(1, 100, { integer: true, description: 'at most this many dead letters' }).default(10);
/** GET /api/dlq/?max= */
export const DeadLettersQuery = z.object({ max: max() });
/** POST /api/dlq/redrive/ {max} */
export const RedriveBody = z.object({ max: max() });

function parse(m: Message): Partial<TaskMessage> {
  try {
    return JSON.parse(m.Body ?? '') as Partial<TaskMessage>;
  } catch {
    return {};
  }
}

/** Up to `max` dead letters, each kept from other readers for `visibilityS`. */
export async function receiveDeadLetters(deps: Clients, max: number, visibilityS: number): Promise<Message[]> {
  const url = await deadLetterQueueUrl(deps);
  const out: Message[] = [];
  const seen = new Set<string>();
  while (out.length < max) {
    const res = await dependency('sqs', () =>
      deps.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: Math.min(10, max - out.length), VisibilityTimeout: visibilityS, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'] }),
      ),
    );
    const fresh = (res.Messages ?? []).filter((m) => !seen.has(m.MessageId!));
    if (fresh.length === 0) break;
    for (const m of fresh) seen.add(m.MessageId!);
    out.push(...fresh);
  }
  return out;
}

/** Removes a dead letter whose task has been dealt with (sent back, or dropped). */
export async function deleteDeadLetter(deps: Clients, dlqUrl: string, m: Message): Promise<void> {
  await dependency('sqs', () => deps.sqs.send(new DeleteMessageCommand({ QueueUrl: dlqUrl, ReceiptHandle: m.ReceiptHandle! })));
}

export async function listDeadLetters(deps: Clients, query: Record<string, string>) {
  const { max } = parseWith(DeadLettersQuery, query);
  const messages = await receiveDeadLetters(deps, max, LIST_VISIBILITY_S);
  const items = await Promise.all(
    messages.map(async (m) => {
      const body = parse(m);
      const task = typeof body.task_id === 'string' ? await getTask(deps, body.task_id).catch(() => null) : null;
      return {
        message_id: m.MessageId,
        task_id: body.task_id ?? null,
        image: body.image ?? null,
        filters: Array.isArray(body.steps) ? body.steps.map((s) => s?.name) : null,
        receive_count: Number(m.Attributes?.ApproximateReceiveCount ?? 0),
        sent_at: m.Attributes?.SentTimestamp ? new Date(Number(m.Attributes.SentTimestamp)).toISOString() : null,
        task_status: task?.status ?? null,
        failure_reason: task?.failure_reason ?? null,
        readable: Array.isArray(body.steps) && typeof body.image === 'string',
      };
    }),
  );
  return { queue: deps.config.aws.dlqName, count: items.length, messages: items };
}

/** Moves up to `max` dead letters back to their task queue, tasks back to pending. */
export async function redriveDeadLetters(deps: Clients, body: Record<string, unknown>) {
  const { max } = parseWith(RedriveBody, body);
  const dlq = await deadLetterQueueUrl(deps);
  // Long enough to finish moving them; a crash midway leaves them to reappear in the DLQ.
  const messages = await receiveDeadLetters(deps, max, REDRIVE_VISIBILITY_S);
  // A listing just made hides what it showed for a second: a redrive right after it (the
  // documented list-then-redrive) waits for those rather than finding nothing.
  // (The ones just received are in flight too.)
  if (messages.length < max && (await queueDepth(deps, dlq)).in_flight > messages.length) {
    await sleep(LIST_VISIBILITY_S * 1000 + 250);
    messages.push(...(await receiveDeadLetters(deps, max - messages.length, REDRIVE_VISIBILITY_S)));
  }
  const redriven: string[] = [];
  const skipped: { message_id: string; reason: string }[] = [];
  for (const m of messages) {
    let msg: TaskMessage;
    try {
      // The same checks a worker makes: a message no worker could run is not sent back to one.
      msg = validateTaskMessage(readTaskMessage(m.Body ?? ''));
    } catch (e) {
      const what = e instanceof ValidationError ? `invalid message (${e.message})` : 'unreadable message';
      skipped.push({ message_id: m.MessageId!, reason: `${what}: left in the dead-letter queue` });
      continue;
    }
    const previous = await requeueTask(deps, msg.task_id, `redriven from the dead-letter queue at ${new Date().toISOString()}`);
    if (previous !== 'completed' && previous !== 'missing') {
      await sendTaskAgain(deps, msg, 'redrive');
      redriven.push(msg.task_id);
    } else skipped.push({ message_id: m.MessageId!, reason: previous === 'completed' ? 'task already completed: dropped' : 'task record expired: dropped' });
    await deleteDeadLetter(deps, dlq, m);
  }
  return { redriven: redriven.length, task_ids: redriven, skipped };
}
