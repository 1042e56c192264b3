/**
 * Task messages go to SQS by group commit: a submission's messages are sent at once when no
 * send to their queue is in flight from this process; submissions that arrive while one is go
 * together in the next SendMessageBatch (up to SQS's 10 entries) as soon as it returns. A burst
 * of concurrent submissions then costs a few calls instead of one each, and the first of them
 * is not held up behind the rest. On Lambda an instance serves one request at a time, so every
 * submission goes alone, as before.
 */
import { SendMessageBatchCommand, type BatchResultErrorEntry, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import type { Clients } from '../core/clients';
import { mapLimit } from '../core/concurrency';
import { dependency } from '../core/dependencies';
import { DependencyUnavailableError } from '../core/errors';
import type { TaskMessage } from './store';

/** SQS's limit on entries per SendMessageBatch. */
export const SEND_BATCH_MAX = 10;

/**
 * Sends task messages to `queueUrl` in calls of up to SEND_BATCH_MAX, `concurrency` calls at
 * a time, each grouped by its task. Some entries refused is SQS failing, not the request: a
 * 503 the caller may retry, counting `what` was refused.
 */
export async function sendTaskMessages(
  deps: Clients,
  queueUrl: string,
  messages: TaskMessage[],
  { deduplicationId, concurrency, what }: { deduplicationId: (m: TaskMessage) => string; concurrency: number; what: string },
): Promise<void> {
  const chunks: TaskMessage[][] = [];
  for (let i = 0; i < messages.length; i += SEND_BATCH_MAX) chunks.push(messages.slice(i, i + SEND_BATCH_MAX));
  const failed = (
    await mapLimit(chunks, concurrency, (chunk) =>
      dependency('sqs', () =>
        sendGrouped(
          deps.sqs,
          queueUrl,
          chunk.map((m, i) => ({ Id: String(i), MessageBody: JSON.stringify(m), MessageGroupId: m.task_id, MessageDeduplicationId: deduplicationId(m) })),
        ),
      ),
    )
  ).flat();
  if (failed.length) {
    throw new DependencyUnavailableError('sqs', `sqs refused ${failed.length} of ${messages.length} ${what}; retry shortly`, new Error(`${failed[0].Code}: ${failed[0].Message ?? ''}`));
  }
}

interface Waiting {
  entries: SendMessageBatchRequestEntry[];
  resolve: (failed: BatchResultErrorEntry[]) => void;
  reject: (e: unknown) => void;
}

class QueueSends {
  private readonly waiting: Waiting[] = [];
  private sending = false;

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
  ) {}

  send(entries: SendMessageBatchRequestEntry[]): Promise<BatchResultErrorEntry[]> {
    if (entries.length === 0 || entries.length > SEND_BATCH_MAX) throw new RangeError(`a submission sends 1 to ${SEND_BATCH_MAX} messages, not ${entries.length}`);
    return new Promise((resolve, reject) => {
      this.waiting.push({ entries, resolve, reject });
      if (!this.sending) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.sending = true;
    while (this.waiting.length) {
      // Whole submissions, in arrival order, while they fit in one call.
      const group: Waiting[] = [this.waiting.shift()!];
      let count = group[0].entries.length;
      while (this.waiting.length && count + this.waiting[0].entries.length <= SEND_BATCH_MAX) {
        count += this.waiting[0].entries.length;
        group.push(this.waiting.shift()!);
      }
      // Entry ids need only be unique within one call: each submission's own ids get its place as a prefix.
      const entries = group.flatMap((w, g) => w.entries.map((e) => ({ ...e, Id: `${g}_${e.Id}` })));
      try {
        const res = await this.sqs.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }));
        group.forEach((w, g) => {
          const prefix = `${g}_`;
          w.resolve((res.Failed ?? []).filter((f) => f.Id?.startsWith(prefix)).map((f) => ({ ...f, Id: f.Id!.slice(prefix.length) })));
        });
      } catch (e) {
        for (const w of group) w.reject(e);
      }
    }
    this.sending = false;
  }
}

const sendsByClient = new WeakMap<SQSClient, Map<string, QueueSends>>();

/** Sends one submission's messages (1 to 10) to `queueUrl`; resolves to the entries SQS refused, with their own ids. */
export function sendGrouped(sqs: SQSClient, queueUrl: string, entries: SendMessageBatchRequestEntry[]): Promise<BatchResultErrorEntry[]> {
  let queues = sendsByClient.get(sqs);
  if (!queues) sendsByClient.set(sqs, (queues = new Map()));
  let sends = queues.get(queueUrl);
  if (!sends) queues.set(queueUrl, (sends = new QueueSends(sqs, queueUrl)));
  return sends.send(entries);
}
