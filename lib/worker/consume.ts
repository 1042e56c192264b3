/**
 * What a worker does with one SQS message (the seed's step 4 onwards): take the task,
 * re-validate the message as the API validated the request, check capabilities *after*
 * taking it (an incompatible task is failed and its message deleted: lost, as the seed
 * documents), else process, store the result in S3, mark completed. Every ending is
 * settled through one table (lib/tasks/outcomes.ts). Returns 'retry' to leave the message
 * for redelivery (SQS batchItemFailures), after a backoff rather than the full visibility timeout.
 *
 * Hooks let a runner overlap one task's I/O with the next task's image work (the local
 * runner does; a Lambda invocation has one record): `processed` is called once the message
 * no longer needs the CPU (its image is processed, or it ended before), so the next task
 * can start while this one's result is stored and recorded; `input` is the task's source
 * image, already being read (prefetchInput) while the task before it was processed, and
 * perhaps already being processed; `runImage` processes images off the JS thread (the
 * runner's image thread, lib/filters/image-thread.ts).
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { Clients } from '../core/clients';
import { dependency } from '../core/dependencies';
import { AppError, ValidationError } from '../core/errors';
import { errorFields, log } from '../core/log';
import { round } from '../core/numbers';
import { processImage, processLimits, type ProcessedImage, type ProcessLimits } from '../filters/pipeline';
import type { FilterStep } from '../filters/request';
import { taskResultKey } from '../images/keys';
import { readImage, validateImageName } from '../images/source';
import { SourceCache } from '../images/source-cache';
import { isMessageEtag, readTaskMessage, taskIdOf, validateTaskMessage } from '../tasks/message';
import { onDelivery, OUTCOMES, taskUpdate, type Ending } from '../tasks/outcomes';
import { lookupQueueUrl } from '../tasks/queues';
import { claimTask, finishAttempt, type TaskMessage } from '../tasks/store';
import { busyFlag, outcomeCounter, type WorkerIdentity } from './registry';

export type Disposition = 'done' | 'retry';

/** Processes one image: processImage on this thread, or the same in the runner's image thread. */
export type ImageRunner = (input: Buffer, steps: FilterStep[], limits: ProcessLimits, signal?: AbortSignal) => Promise<ProcessedImage>;

/** A task's source image, read ahead while the task before it is processed, and perhaps its image started. */
export interface PrefetchedInput {
  taskId: string;
  image: string;
  read: Promise<{ bytes: Buffer }>;
  /** The task's image, queued in the image thread behind the current one (see prefetchInput). */
  output?: Promise<ProcessedImage>;
  /** Takes a queued image out of the thread's queue: the task will not use it. */
  cancel: () => void;
}

export interface ConsumeHooks {
  processed?: () => void;
  input?: PrefetchedInput;
  runImage?: ImageRunner;
}

/** Inside consume, `processed` is always there and fires once. */
type Hooks = ConsumeHooks & { processed: () => void };

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

/** SQS's own count of this message's deliveries: known even when Redis, which counts attempts, is not reachable. */
function receivesOf(record: SQSRecord): number {
  return Number(record.attributes?.ApproximateReceiveCount ?? 1);
}

/** Shortens the message's invisibility to the backoff, instead of the full visibility timeout. */
async function backOff(deps: Clients, record: SQSRecord): Promise<void> {
  const queueName = record.eventSourceARN?.split(':').pop();
  if (!queueName || !record.receiptHandle) return;
  const delay = retryDelayS(receivesOf(record), deps.config.aws.visibilityTimeoutS);
  const QueueUrl = await lookupQueueUrl(deps, queueName);
  await deps.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: delay }));
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
async function settle(deps: Clients, worker: WorkerIdentity, record: SQSRecord, claimed: Claimed | undefined, raw: Ending): Promise<Disposition> {
  const ending = onDelivery(raw, receivesOf(record), deps.config.aws.maxReceiveCount);
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
  await backOff(deps, record).catch(() => undefined);
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

/** A task's source image, under the byte cap, whether read ahead or when the task runs; `etag` is the version the task was submitted with. */
function readInput(deps: Clients, image: string, etag: string | undefined): Promise<{ bytes: Buffer }> {
  return readImage(deps, image, { maxBytes: deps.config.processing.maxInputBytes, cache: sourceCacheOf(deps), etag });
}

/**
 * Starts reading the source image a message names, before the task is claimed, so the read
 * overlaps the image work of the task before it. Only the read moves: the task is still
 * claimed, checked and settled when it runs, and a failed read (missing, too large, S3 down)
 * is met there and ends the task exactly as a read at that point would. Undefined for a
 * body that is not a task or names no valid image (consume settles those).
 *
 * With `ahead` (the runner's image thread), a valid task this worker can do also has its
 * image queued in the thread behind the current one, so the thread goes from one image to
 * the next without waiting for this task's claim: the claim still decides, and an image
 * whose task is not claimed (a redelivery of a finished task) is cancelled or dropped.
 */
export function prefetchInput(deps: Clients, record: SQSRecord, ahead?: { worker: WorkerIdentity; runImage: ImageRunner }): PrefetchedInput | undefined {
  let msg: TaskMessage;
  try {
    msg = readTaskMessage(record.body);
    validateImageName(msg.image, 'image');
  } catch {
    return undefined;
  }
  // An ETag the task's validation will refuse is not trusted here either.
  const read = readInput(deps, msg.image, isMessageEtag(msg.image_etag) ? msg.image_etag : undefined);
  // Its rejection is handled where the task awaits it; until then it must not count as unhandled.
  read.catch(() => undefined);
  const abort = new AbortController();
  const input: PrefetchedInput = { taskId: msg.task_id, image: msg.image, read, cancel: () => abort.abort() };
  const steps = ahead && startableSteps(msg, ahead.worker);
  if (ahead && steps) {
    input.output = read.then(({ bytes }) => ahead.runImage(bytes, steps, processLimits(deps.config.processing), abort.signal));
    input.output.catch(() => undefined);
  }
  return input;
}

/** The steps of a message that will pass validation and this worker's capabilities; undefined otherwise (the task fails without an image). */
function startableSteps(raw: TaskMessage, worker: WorkerIdentity): FilterStep[] | undefined {
  try {
    const msg = validateTaskMessage(raw);
    return missingCapabilities(msg.steps, worker).length === 0 ? msg.steps : undefined;
  } catch {
    return undefined;
  }
}

/** The filters of these steps the worker cannot run, each named once. */
function missingCapabilities(steps: FilterStep[], worker: WorkerIdentity): string[] {
  return steps.map((s) => s.name).filter((f, i, all) => !worker.capabilities.includes(f) && all.indexOf(f) === i);
}

/** One attempt at a claimed task, up to the ending to record. */
async function attempt(deps: Clients, worker: WorkerIdentity, raw: TaskMessage, claimMs: number, hooks: Hooks): Promise<Ending> {
  const startedAt = Date.now();
  let msg: TaskMessage;
  try {
    msg = validateTaskMessage(raw);
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    log.warn('task failed: invalid message', { worker: worker.id, task_id: raw.task_id, field: e.field, reason: e.message });
    return { outcome: 'invalid', error: e.message, fields: { queue_wait_ms: startedAt - raw.queued_at } };
  }

  const missing = missingCapabilities(msg.steps, worker);
  if (missing.length) {
    log.warn('task failed: capability mismatch', { worker: worker.id, task_id: msg.task_id, missing });
    return { outcome: 'capability_mismatch', error: `Worker ${worker.id} cannot handle filters: ${pyList(missing)}`, fields: { queue_wait_ms: startedAt - msg.queued_at } };
  }

  try {
    const p = deps.config.processing;
    let t = performance.now();
    const ahead = hooks.input?.taskId === msg.task_id && hooks.input.image === msg.image ? hooks.input : undefined;
    // With a prefetched input, fetch_ms is what the task still waited for it (often 0).
    const { bytes } = await (ahead?.read ?? readInput(deps, msg.image, msg.image_etag));
    const fetchMs = performance.now() - t;
    const out = await (ahead?.output ?? (hooks.runImage ?? processImage)(bytes, msg.steps, processLimits(p)));
    // The image's own time, wherever and whenever it ran (an image queued ahead may have started before this attempt).
    const processMs = out.total_ms;
    hooks.processed();
    const key = taskResultKey(msg.task_id, msg.image);
    t = performance.now();
    await dependency('s3', () => deps.s3.send(new PutObjectCommand({ Bucket: deps.config.aws.bucket, Key: key, Body: out.output, ContentType: 'image/jpeg' })));
    const storeMs = performance.now() - t;
    const processingMs = Date.now() - startedAt;
    log.info('task completed', { worker: worker.id, task_id: msg.task_id, ms: processingMs });
    return {
      outcome: 'completed',
      fields: {
        queue_wait_ms: startedAt - msg.queued_at,
        processing_ms: processingMs,
        filter_ms: out.filters.map((f) => ({ name: f.name, ms: f.ms })),
        timings: { claim_ms: round(claimMs), fetch_ms: round(fetchMs), process_ms: round(processMs), store_ms: round(storeMs) },
        result_key: key,
        width: out.width,
        height: out.height,
        bytes: out.output.length,
        last_error: null,
      },
    };
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    // The input itself is bad (missing, too large or undecodable image, a filter error on it): no delivery can fix it.
    if (e instanceof AppError && !e.retryable) return { outcome: 'rejected', reason: e.code, error };
    log.error('task attempt failed; left for redelivery', { worker: worker.id, task_id: msg.task_id, ...errorFields(e) });
    return { outcome: 'error', error };
  }
}

export async function consume(deps: Clients, worker: WorkerIdentity, record: SQSRecord, hooks: ConsumeHooks = {}): Promise<Disposition> {
  let called = false;
  const processed = () => {
    if (called) return;
    called = true;
    hooks.processed?.();
  };
  try {
    return await consumeRecord(deps, worker, record, { ...hooks, processed });
  } finally {
    processed();
    // An image queued ahead for a task that ended without it (not claimed, failed first) leaves the thread's queue.
    hooks.input?.cancel();
  }
}

async function consumeRecord(deps: Clients, worker: WorkerIdentity, record: SQSRecord, hooks: Hooks): Promise<Disposition> {
  let msg: TaskMessage;
  try {
    msg = readTaskMessage(record.body);
  } catch (e) {
    // Not a task message at all (another producer, a corrupted body): retried, so it ends in
    // the dead-letter queue where an operator can read it; its task, if named, fails there.
    log.error('unreadable task message', { worker: worker.id, message_id: record.messageId, ...errorFields(e) });
    const taskId = taskIdOf(record.body);
    const claim = taskId ? await claimTask(deps, taskId, worker.id).catch(() => undefined) : undefined;
    const claimed = taskId && claim?.state === 'claimed' ? { taskId, attempt: claim.attempt } : undefined;
    return settle(deps, worker, record, claimed, { outcome: 'error', error: `unreadable message: ${(e as Error).message}` });
  }

  const claimStart = performance.now();
  let claim;
  try {
    claim = await claimTask(deps, msg.task_id, worker.id, busyFlag(deps, worker.id));
  } catch (e) {
    // Redis unreachable: nothing can be recorded. Retry after a backoff; if every delivery
    // meets the outage, the sweeper settles the task from the dead-letter queue later.
    log.error('task not claimed; left for redelivery', { worker: worker.id, task_id: msg.task_id, ...errorFields(e) });
    return settle(deps, worker, record, undefined, { outcome: 'error' });
  }
  if (claim.state !== 'claimed') {
    // Redelivery of a finished task (or a task unknown here): acknowledge, never process twice.
    log.warn('delivery of a finished or unknown task ignored', { worker: worker.id, task_id: msg.task_id, state: claim.state });
    return 'done';
  }
  const ending = await attempt(deps, worker, msg, performance.now() - claimStart, hooks).catch((e): Ending => ({ outcome: 'error', error: (e as Error).message }));
  hooks.processed();
  return settle(deps, worker, record, { taskId: msg.task_id, attempt: claim.attempt }, ending);
}
