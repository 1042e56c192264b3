/**
 * What a worker does with one delivered task (the seed's step 4 onwards): take the task, then
 * end it as its preparation decided (lib/worker/task.ts): an unreadable or invalid message, or
 * one this worker lacks a filter for (an incompatible task is failed and its message deleted:
 * lost, as the seed documents), else process the image, store the result in S3, mark it
 * completed. Every ending is settled through one table (lib/tasks/outcomes.ts). 'retry' leaves
 * the message for redelivery (SQS batchItemFailures), after a backoff rather than the full
 * visibility timeout.
 *
 * runTask reports two moments: `imageDone` once the task no longer needs the CPU (its image is
 * processed, or it ended before), so a runner can start the next image while this result is
 * stored and recorded; `settled` once the message's fate is known.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import type { Clients } from '../core/clients';
import { dependency } from '../core/dependencies';
import { AppError } from '../core/errors';
import { errorFields, log } from '../core/log';
import { round } from '../core/numbers';
import { processImage, processLimits, StepsAbortedError } from '../filters/pipeline';
import { taskResultKey } from '../images/keys';
import { CONTENT_TYPES, EXTENSIONS } from '../filters/output';
import { readImage } from '../images/source';
import { SourceCache } from '../images/source-cache';
import { onDelivery, OUTCOMES, taskUpdate, type Ending } from '../tasks/outcomes';
import { lookupQueueUrl } from '../tasks/queues';
import { claimTask, finishAttempt, taskKey } from '../tasks/store';
import { busyFlag, outcomeCounter, type WorkerIdentity } from './registry';
import { preparedTaskId, type Delivery, type PreparedTask } from './task';

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

/** The queue a delivery came from: a runner knows its URL, a Lambda event names the queue. */
export function deliveryQueueUrl(deps: Clients, delivery: Delivery): Promise<string> {
  return delivery.queueUrl ? Promise.resolve(delivery.queueUrl) : lookupQueueUrl(deps, delivery.queueName);
}

/** Shortens the message's invisibility to the backoff, instead of the full visibility timeout. */
async function backOff(deps: Clients, delivery: Delivery): Promise<void> {
  const delay = retryDelayS(delivery.receiveCount, deps.config.aws.visibilityTimeoutS);
  const QueueUrl = await deliveryQueueUrl(deps, delivery);
  await deps.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: delivery.receiptHandle, VisibilityTimeout: delay }));
}

/** Python's repr of a list of strings, as the seed prints it: ['sharpen', 'edges']. */
function pyList(items: string[]): string {
  return `[${items.map((i) => `'${i}'`).join(', ')}]`;
}

interface Claimed {
  taskId: string;
  attempt: number;
}

/**
 * Records the ending on the task (if this attempt still owns it), counts it, and says what
 * becomes of the message. An ending that could not be recorded (Redis went away) is
 * retried, so no task is left `processing` with its message acknowledged.
 */
async function settle(deps: Clients, worker: WorkerIdentity, delivery: Delivery, claimed: Claimed | undefined, raw: Ending): Promise<Disposition> {
  const ending = onDelivery(raw, delivery.receiveCount, deps.config.aws.maxReceiveCount);
  const rule = OUTCOMES[ending.outcome];
  let recorded = true;
  if (claimed) {
    const fields = taskUpdate(ending, { attempts: claimed.attempt, maxReceiveCount: deps.config.aws.maxReceiveCount, workerId: worker.id });
    // The worker's counter goes with the outcome, in one script: a worker killed between two writes lost counts.
    const counter = rule.counter ? outcomeCounter(deps, worker.id, rule.counter, ending.outcome === 'completed' ? (fields.processing_ms ?? undefined) : undefined) : undefined;
    // One script: the outcome, the worker idle again (unless already on its next task), the filter times.
    const extras = { idle: { key: busyFlag(deps, worker.id), taskId: claimed.taskId }, filterTimes: fields.filter_ms ?? undefined };
    await finishAttempt(deps, claimed.taskId, claimed.attempt, ending.outcome, fields, counter, extras).catch((e) => {
      recorded = false;
      log.error('task outcome not recorded; message left for redelivery', { worker: worker.id, task_id: claimed.taskId, outcome: ending.outcome, ...errorFields(e) });
    });
  }
  if (rule.message === 'ack' && recorded) return 'done';
  await backOff(deps, delivery).catch(() => undefined);
  return 'retry';
}

/** One source-image cache per set of clients: per process in a worker, per test in the tests. */
const sourceCaches = new WeakMap<Clients, SourceCache | undefined>();

function sourceCacheOf(deps: Clients): SourceCache | undefined {
  if (!sourceCaches.has(deps)) {
    const mb = deps.config.workers.sourceCacheMb;
    sourceCaches.set(deps, mb > 0 ? new SourceCache(mb * 1024 * 1024) : undefined);
  }
  return sourceCaches.get(deps);
}

/**
 * Starts reading a runnable task's source image (under the byte cap, the version it was
 * submitted with) before the task is claimed, so the read overlaps the image work of the task
 * before it. Only the read moves: the task is still claimed and settled when it runs, and a
 * failed read (missing, too large, S3 down) ends the task there exactly as a read at that point
 * would. Other tasks read nothing.
 */
export function readAhead(deps: Clients, task: PreparedTask): void {
  if (task.kind !== 'runnable' || task.input) return;
  const { image, image_etag: etag } = task.message;
  task.input = readImage(deps, image, { maxBytes: deps.config.processing.maxInputBytes, cache: sourceCacheOf(deps), etag });
  // Its rejection is handled where the task awaits it; until then it must not count as unhandled.
  task.input.catch(() => undefined);
}

/** How often a running task looks for a cancel asked while it runs (one HGET). */
const CANCEL_CHECK_MS = 250;

/**
 * Aborts once the task's deadline passes or a cancel is asked for it, whichever comes first;
 * processImage stops at its next filter boundary. `stop()` ends the watching.
 */
function watchForStop(deps: Clients, taskId: string, deadlineAt: string | undefined): { signal: AbortSignal; stop: () => void } {
  const abort = new AbortController();
  const timers: NodeJS.Timeout[] = [];
  if (deadlineAt) timers.push(setTimeout(() => abort.abort('timed_out'), Math.max(0, Date.parse(deadlineAt) - Date.now())));
  const poll = setInterval(() => {
    deps.redis.hget(taskKey(deps, taskId), 'cancel_requested').then(
      (v) => v === '1' && abort.abort('cancelled'),
      () => undefined,
    );
  }, CANCEL_CHECK_MS);
  timers.push(poll);
  for (const t of timers) t.unref?.();
  return { signal: abort.signal, stop: () => timers.forEach((t) => clearTimeout(t)) };
}

/** One attempt at a claimed task, up to the ending to record; `imageDone` once it no longer needs the CPU. */
async function attempt(deps: Clients, worker: WorkerIdentity, task: Exclude<PreparedTask, { kind: 'unreadable' }>, claimMs: number, imageDone: () => void): Promise<Ending> {
  const startedAt = Date.now();
  const msg = task.message;
  const queueWait = { queue_wait_ms: startedAt - msg.queued_at };
  if (task.kind === 'invalid') {
    log.warn('task failed: invalid message', { worker: worker.id, task_id: msg.task_id, field: task.error.field, reason: task.error.message });
    return { outcome: 'invalid', error: task.error.message, fields: queueWait };
  }
  if (task.kind === 'mismatch') {
    log.warn('task failed: capability mismatch', { worker: worker.id, task_id: msg.task_id, missing: task.missing });
    return { outcome: 'capability_mismatch', error: `Worker ${worker.id} cannot handle filters: ${pyList(task.missing)}`, fields: queueWait };
  }
  try {
    let t = performance.now();
    readAhead(deps, task);
    // Read ahead, fetch_ms is what the task still waited for its image (often 0).
    const { bytes } = await task.input!;
    const fetchMs = performance.now() - t;
    const watch = watchForStop(deps, msg.task_id, msg.deadline_at);
    // Done all its steps, a task completes even if a cancel came during the last one: the state recorded is what happened.
    const limits = { ...processLimits(deps.config.processing), ...(msg.output ? { output: msg.output } : {}) };
    const out = await processImage(bytes, msg.steps, limits, watch.signal).finally(watch.stop);
    imageDone();
    const key = taskResultKey(msg.task_id, msg.image, EXTENSIONS[out.format]);
    t = performance.now();
    await dependency('s3', () => deps.s3.send(new PutObjectCommand({ Bucket: deps.config.aws.bucket, Key: key, Body: out.output, ContentType: CONTENT_TYPES[out.format] })));
    const storeMs = performance.now() - t;
    const processingMs = Date.now() - startedAt;
    log.info('task completed', { worker: worker.id, task_id: msg.task_id, ms: processingMs });
    return {
      outcome: 'completed',
      fields: {
        ...queueWait,
        processing_ms: processingMs,
        filter_ms: out.filters.map((f) => ({ name: f.name, ms: f.ms })),
        timings: { claim_ms: round(claimMs), fetch_ms: round(fetchMs), process_ms: round(out.total_ms), store_ms: round(storeMs) },
        result_key: key,
        width: out.width,
        height: out.height,
        bytes: out.output.length,
        last_error: null,
      },
    };
  } catch (e) {
    if (e instanceof StepsAbortedError) {
      const outcome = e.reason === 'timed_out' ? 'timed_out' : 'cancelled';
      log.info(`task ${outcome} at a filter boundary`, { worker: worker.id, task_id: msg.task_id });
      const why = outcome === 'timed_out' ? `The job deadline (${msg.deadline_at}) passed while the task ran; abandoned at a filter boundary` : 'Cancelled while it ran; stopped at a filter boundary';
      return { outcome, error: why, fields: queueWait };
    }
    const error = e instanceof Error ? e.message : String(e);
    // The input itself is bad (missing, too large or undecodable image, a filter error on it): no delivery can fix it.
    if (e instanceof AppError && !e.retryable) return { outcome: 'rejected', reason: e.code, error };
    log.error('task attempt failed; left for redelivery', { worker: worker.id, task_id: msg.task_id, ...errorFields(e) });
    return { outcome: 'error', error };
  }
}

async function claimAndRun(deps: Clients, worker: WorkerIdentity, delivery: Delivery, task: PreparedTask, imageDone: () => void): Promise<Disposition> {
  if (task.kind === 'unreadable') {
    // Not a task message at all (another producer, a corrupted body): retried, so it ends in
    // the dead-letter queue where an operator can read it; its task, if named, fails there.
    log.error('unreadable task message', { worker: worker.id, message_id: delivery.messageId, reason: task.error });
    const taskId = preparedTaskId(task);
    const claim = taskId ? await claimTask(deps, taskId, worker.id).catch(() => undefined) : undefined;
    const claimed = taskId && claim?.state === 'claimed' ? { taskId, attempt: claim.attempt } : undefined;
    return settle(deps, worker, delivery, claimed, { outcome: 'error', error: `unreadable message: ${task.error}` });
  }
  const taskId = task.message.task_id;
  const claimStart = performance.now();
  let claim;
  try {
    claim = await claimTask(deps, taskId, worker.id, busyFlag(deps, worker.id));
  } catch (e) {
    // Redis unreachable: nothing can be recorded. Retry after a backoff; if every delivery
    // meets the outage, the sweeper settles the task from the dead-letter queue later.
    log.error('task not claimed; left for redelivery', { worker: worker.id, task_id: taskId, ...errorFields(e) });
    return settle(deps, worker, delivery, undefined, { outcome: 'error' });
  }
  if (claim.state !== 'claimed') {
    // Redelivery of a finished task (or a task unknown here), or one cancelled or timed out
    // before it started (the claim recorded that): acknowledge, never process.
    if (claim.state === 'cancelled' || claim.state === 'timed_out') log.info(`delivery of a ${claim.state.replace('_', ' ')} task skipped`, { worker: worker.id, task_id: taskId });
    else log.warn('delivery of a finished or unknown task ignored', { worker: worker.id, task_id: taskId, state: claim.state });
    return 'done';
  }
  const ending = await attempt(deps, worker, task, performance.now() - claimStart, imageDone).catch((e): Ending => ({ outcome: 'error', error: (e as Error).message }));
  imageDone();
  return settle(deps, worker, delivery, { taskId, attempt: claim.attempt }, ending);
}

export interface RunningTask {
  /** The task no longer needs the CPU: its image is processed (its result may still be being stored), or it ended before. */
  imageDone: Promise<void>;
  /** What becomes of the message; never rejects. */
  settled: Promise<Disposition>;
}

export function runTask(deps: Clients, worker: WorkerIdentity, delivery: Delivery, task: PreparedTask): RunningTask {
  let markImageDone!: () => void;
  const imageDone = new Promise<void>((resolve) => (markImageDone = resolve));
  const settled = claimAndRun(deps, worker, delivery, task, markImageDone)
    .catch((e): Disposition => {
      log.error('message left for redelivery', { worker: worker.id, message_id: delivery.messageId, ...errorFields(e) });
      return 'retry';
    })
    .finally(markImageDone);
  return { imageDone, settled };
}
