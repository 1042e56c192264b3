/**
 * The local runner's acknowledgements: messages whose tasks are settled are deleted in
 * batches (DeleteMessageBatch, up to SQS's 10 per call), at most `delayMs` after the first of
 * a batch was settled, so a busy worker makes one SQS call per several tasks rather than one
 * per task (on AWS, the event-source mapping does this for a Lambda worker).
 *
 * Nothing is lost by waiting: a worker that dies before a flush leaves those messages to
 * reappear after the visibility timeout, and their claim finds the tasks finished, so they
 * are deleted without being processed again (lib/worker/consume.ts). Each task has its own
 * FIFO message group, so an undeleted message holds back no other task.
 */
import { DeleteMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';

/** SQS's limit on entries per DeleteMessageBatch. */
const MAX_BATCH = 10;

export class BatchedDeletes {
  private readonly pending = new Map<string, { id: string; receiptHandle: string }[]>();
  private timer: NodeJS.Timeout | undefined;
  private readonly flushing = new Set<Promise<void>>();

  constructor(
    private readonly sqs: SQSClient,
    private readonly delayMs: number,
    /** Called for each message SQS did not delete (it reappears after its visibility timeout). */
    private readonly onFailure: (messageId: string, reason: string) => void,
  ) {}

  add(queueUrl: string, messageId: string, receiptHandle: string): void {
    const batch = this.pending.get(queueUrl) ?? [];
    batch.push({ id: messageId, receiptHandle });
    this.pending.set(queueUrl, batch);
    if (batch.length >= MAX_BATCH) this.send(queueUrl);
    else this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }

  /** Sends everything pending now; resolves once every batch sent so far has been answered. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const queueUrl of [...this.pending.keys()]) this.send(queueUrl);
    await Promise.all(this.flushing);
  }

  private send(queueUrl: string): void {
    const entries = this.pending.get(queueUrl)!.splice(0, MAX_BATCH);
    if (this.pending.get(queueUrl)!.length === 0) this.pending.delete(queueUrl);
    // Batch entry ids must be unique within the call and short: the position serves.
    const sent = this.sqs
      .send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries.map((e, i) => ({ Id: String(i), ReceiptHandle: e.receiptHandle })) }))
      .then(
        (res) => {
          for (const f of res.Failed ?? []) this.onFailure(entries[Number(f.Id)]?.id ?? '?', `${f.Code ?? 'error'}: ${f.Message ?? ''}`);
        },
        (e) => {
          for (const entry of entries) this.onFailure(entry.id, (e as Error).message);
        },
      )
      .finally(() => this.flushing.delete(sent));
    this.flushing.add(sent);
  }
}
