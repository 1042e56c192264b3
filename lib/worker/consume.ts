/**
 * What a worker does with one SQS message, the seed's step 4 onwards: take the task, check
 * capabilities *after* taking it (an incompatible task is marked failed and its message
 * deleted: lost, as the seed documents), else process, store the result in S3, mark
 * completed. Returns 'retry' to leave the message for redelivery (SQS batchItemFailures).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { Clients } from '../core/clients';
import { dependency } from '../core/dependencies';
import { AppError } from '../core/errors';
import { processImage } from '../filters/pipeline';
import { round } from '../core/numbers';
import { readImage } from '../images/source';
import { lookupQueueUrl } from '../tasks/queues';
import { errorFields, log } from '../core/log';
import { claimTask, finishAttempt, type TaskMessage } from '../tasks/store';
import { recordFilterTimes } from '../observability/metrics-store';
import { countOutcome, setBusy, type WorkerIdentity } from './registry';

export type Disposition = 'done' | 'retry';

const BACKOFF_BASE_S = 1;
const BACKOFF_MAX_S = 60;

/**
 * Seconds before a failed delivery is retried: exponential in the attempt, with "equal
 * jitter" (half fixed, half random) so retries of many tasks do not arrive together.
 */
export function retryDelayS(attempt: number, visibilityTimeoutS: number, random = Math.random): number {
  const cap = Math.min(BACKOFF_MAX_S, visibilityTimeoutS, BACKOFF_BASE_S * 2 ** Math.max(0, attempt - 1));
  return Math.max(0, Math.round(cap / 2 + random() * (cap / 2)));
}

/** Shortens the message's invisibility to the backoff, instead of the full visibility timeout. */
async function backOff(deps: Clients, record: SQSRecord, attempt: number): Promise<void> {
  const queueName = record.eventSourceARN?.split(':').pop();
  if (!queueName || !record.receiptHandle) return;
  const delay = retryDelayS(attempt, deps.config.aws.visibilityTimeoutS);
  const QueueUrl = await lookupQueueUrl(deps, queueName);
  await deps.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: delay }));
}

export function resultKey(taskId: string, image: string): string {
  return `processed/${taskId}/${image.replace(/\.[^.]+$/, '')}.jpg`;
}

/** Python's repr of a list of strings, as the seed prints it: ['sharpen', 'edges']. */
function pyList(items: string[]): string {
  return `[${items.map((i) => `'${i}'`).join(', ')}]`;
}

function parseMessage(body: string): TaskMessage {
  const m = JSON.parse(body) as TaskMessage;
  if (typeof m?.task_id !== 'string' || typeof m.image !== 'string' || !Array.isArray(m.steps) || typeof m.queued_at !== 'number') {
    throw new Error('message body is not a task (task_id, image, steps, queued_at)');
  }
  for (const s of m.steps) if (typeof s?.name !== 'string' || typeof s.params !== 'object' || s.params === null) throw new Error('message has a malformed step');
  return m;
}

function taskIdOf(body: string): string | undefined {
  try {
    const id = (JSON.parse(body) as { task_id?: unknown }).task_id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A message that fails on its last allowed delivery is about to go to the dead-letter
 * queue: its task is marked failed (worker_failure) now, since nothing will take it again.
 */
async function failIfLastDelivery(deps: Clients, record: SQSRecord, taskId: string | undefined, attempt: number, reason: string) {
  const receives = Number(record.attributes?.ApproximateReceiveCount ?? 1);
  if (!taskId || receives < deps.config.aws.maxReceiveCount) return;
  await finishAttempt(deps, taskId, attempt, 'dead_lettered', {
    status: 'failed',
    finished_at: new Date().toISOString(),
    failure_type: 'worker_failure',
    failure_reason: 'max_deliveries_exceeded',
    explanation: `The task failed on all ${deps.config.aws.maxReceiveCount} deliveries; its message moves to the dead-letter queue`,
    error: reason,
  }).catch(() => undefined);
}

export async function consume(deps: Clients, worker: WorkerIdentity, record: SQSRecord): Promise<Disposition> {
  let msg: TaskMessage;
  try {
    msg = parseMessage(record.body);
  } catch (e) {
    // Unreadable: leave it to SQS, which dead-letters it after maxReceiveCount deliveries.
    log.error('unreadable task message', { worker: worker.id, message_id: record.messageId, ...errorFields(e) });
    const taskId = taskIdOf(record.body);
    if (taskId) {
      const claim = await claimTask(deps, taskId, worker.id).catch(() => undefined);
      await failIfLastDelivery(deps, record, taskId, claim?.attempt ?? 0, `unreadable message: ${(e as Error).message}`);
    }
    return 'retry';
  }

  const claimStart = performance.now();
  const claim = await claimTask(deps, msg.task_id, worker.id);
  const claimMs = performance.now() - claimStart;
  if (claim.state !== 'claimed') {
    // Redelivery of a finished task (or a task unknown here): acknowledge, never process twice.
    log.warn('delivery of a finished or unknown task ignored', { worker: worker.id, task_id: msg.task_id, state: claim.state });
    return 'done';
  }
  const attempt = claim.attempt;
  const startedAt = Date.now();

  const missing = msg.steps.map((s) => s.name).filter((f, i, all) => !worker.capabilities.includes(f) && all.indexOf(f) === i);
  if (missing.length) {
    await finishAttempt(deps, msg.task_id, attempt, 'capability_mismatch', {
      status: 'failed',
      finished_at: new Date().toISOString(),
      queue_wait_ms: startedAt - msg.queued_at,
      failure_type: 'job_failure',
      failure_reason: 'worker_capability_mismatch',
      explanation: 'Worker took the task but cannot handle the requested filter; the task is lost (FIFO dispatch is not capability-aware)',
      error: `Worker ${worker.id} cannot handle filters: ${pyList(missing)}`,
    });
    await countOutcome(deps, worker.id, 'failed');
    log.warn('task failed: capability mismatch', { worker: worker.id, task_id: msg.task_id, missing });
    return 'done';
  }

  await setBusy(deps, worker.id, msg.task_id);
  try {
    let t = performance.now();
    const { bytes } = await readImage(deps, msg.image);
    const fetchMs = performance.now() - t;
    t = performance.now();
    const out = await processImage(bytes, msg.steps, { maxInputPixels: deps.config.processing.maxInputPixels, jpegQuality: deps.config.processing.jpegQuality });
    const processMs = performance.now() - t;
    const key = resultKey(msg.task_id, msg.image);
    t = performance.now();
    await dependency('s3', () => deps.s3.send(new PutObjectCommand({ Bucket: deps.config.aws.bucket, Key: key, Body: out.output, ContentType: 'image/jpeg' })));
    const storeMs = performance.now() - t;
    const processingMs = Date.now() - startedAt;
    const finished = await finishAttempt(deps, msg.task_id, attempt, 'completed', {
      status: 'completed',
      finished_at: new Date().toISOString(),
      queue_wait_ms: startedAt - msg.queued_at,
      processing_ms: processingMs,
      filter_ms: out.filters.map((f) => ({ name: f.name, ms: f.ms })),
      timings: { claim_ms: round(claimMs), fetch_ms: round(fetchMs), process_ms: round(processMs), store_ms: round(storeMs) },
      result_key: key,
      width: out.width,
      height: out.height,
      bytes: out.output.length,
      last_error: null,
    });
    if (finished) {
      await countOutcome(deps, worker.id, 'processed', processingMs);
      await recordFilterTimes(deps, out.filters);
    }
    log.info('task completed', { worker: worker.id, task_id: msg.task_id, attempt, ms: processingMs });
    return 'done';
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    if (e instanceof AppError && !e.retryable) {
      // The input itself is bad (missing or undecodable image): no delivery can fix it.
      await finishAttempt(deps, msg.task_id, attempt, 'rejected', {
        status: 'failed',
        finished_at: new Date().toISOString(),
        failure_type: 'job_failure',
        failure_reason: e.code,
        explanation: 'The task cannot be processed as submitted; it is not retried',
        error: reason,
      }).catch(() => undefined);
      await countOutcome(deps, worker.id, 'failed').catch(() => undefined);
      return 'done';
    }
    log.error('task attempt failed; left for redelivery', { worker: worker.id, task_id: msg.task_id, attempt, ...errorFields(e) });
    await finishAttempt(deps, msg.task_id, attempt, 'error', { status: 'pending', last_error: reason }).catch(() => undefined);
    await failIfLastDelivery(deps, record, msg.task_id, attempt, reason);
    await backOff(deps, record, attempt).catch(() => undefined);
    return 'retry';
  } finally {
    await setBusy(deps, worker.id, null).catch(() => undefined);
  }
}
