/**
 * POST /api/process-batch/distributed/: validate filters and images as the batch endpoints do, record one task per image in
 * Redis, send one message per task to the FIFO queue, answer at once. Each task is its own
 * MessageGroupId, so FIFO ordering never makes unrelated tasks wait for each other; the
 * task id is the deduplication id, so a retried send cannot enqueue a task twice. Concurrent
 * submissions share their S3 HEAD of an image (lib/core/in-flight.ts) and their SQS calls
 * (lib/tasks/grouped-sends.ts).
 */
import { randomUUID } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { Clients } from '../core/clients';
import { dependency } from '../core/dependencies';
import { mapLimit } from '../core/concurrency';
import { deleteJob, jobUrl } from '../jobs/store';
import { filterFields, paramsNamedInFilters, stepsOf } from '../filters/request';
import { explain, jsonNumber, parseWith, strictBody } from '../core/validate';
import { z } from 'zod';
import { OutputSchema } from '../filters/output';
import { MAX_NOTIFY_URL_LENGTH, NOTIFY_URL_FIELD, validateNotifyUrl } from '../jobs/notify-url';
import { checkNotifyUrl, wakeWebhookSender } from '../jobs/webhooks';
import { DEFAULT_IMAGE, headImage, imageListSchema } from '../images/source';
import { routeFor, routeQueueUrl } from './dispatch';
import { taskQueueUrl } from './queues';
import { isMessageEtag } from './message';
import { createTasks, deleteTasks, type TaskMessage } from './store';
import { sendTaskMessages } from './grouped-sends';

/** Images one submission (one job) may name; its messages go in batches of SEND_BATCH_MAX. */
export const MAX_TASKS_PER_SUBMISSION = 1000;
/** A job's deadline: seconds from submission. */
export const DEADLINE_S = { min: 1, max: 86_400 };
/** Concurrent S3 HEADs and SQS batches of one submission. */
const SUBMIT_CONCURRENCY = 16;

/**
 * Sends a task's message again (a DLQ redrive, or recovery after the emulator forgot it) to
 * the queue it belongs on. A fresh deduplication id, since the first one was used.
 */
export async function sendTaskAgain(deps: Clients, msg: TaskMessage, reason: string): Promise<void> {
  const queueUrl = msg.route ? await routeQueueUrl(deps, routeFor(msg.steps.map((s) => s.name))) : await taskQueueUrl(deps);
  await dependency('sqs', () =>
    deps.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(msg), MessageGroupId: msg.task_id, MessageDeduplicationId: `${msg.task_id}-${reason}-${Date.now()}` })),
  );
}

/** The submission body: the batch endpoints' filters, up to 1,000 images (one task each), and an optional deadline. */
export const DistributedBody = strictBody(
  {
    ...filterFields,
    images: imageListSchema(MAX_TASKS_PER_SUBMISSION, 'one task each').default(() => [DEFAULT_IMAGE]),
    output: OutputSchema.optional(),
    deadline_s: jsonNumber(DEADLINE_S.min, DEADLINE_S.max, { integer: true, description: 'seconds from submission after which unfinished tasks are timed_out' }).optional(),
    notify_url: explain(
      z
        .string()
        .max(MAX_NOTIFY_URL_LENGTH)
        .refine((v) => notifyUrlProblem(v) === undefined)
        .optional()
        .meta({ format: 'uri', description: "http(s) URL that receives the job's events as signed webhooks (docs/webhooks.md)" }),
      ({ raw }) => ({ message: notifyUrlProblem(raw) ?? 'notify_url must be an http:// or https:// URL', field: NOTIFY_URL_FIELD }),
    ),
  },
  [paramsNamedInFilters],
).transform((v) => ({ steps: stepsOf(v), images: v.images, deadlineS: v.deadline_s, notifyUrl: v.notify_url, output: v.output }));

/** What validateNotifyUrl says is wrong with a notify_url, or undefined. */
function notifyUrlProblem(raw: unknown): string | undefined {
  try {
    validateNotifyUrl(raw);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

export function parseDistributedRequest(body: Record<string, unknown>) {
  return parseWith(DistributedBody, body);
}

export type DistributedRequest = ReturnType<typeof parseDistributedRequest>;

export async function submitDistributed(deps: Clients, { steps, images, deadlineS, notifyUrl: rawNotifyUrl, output }: DistributedRequest) {
  // Where it points is checked before anything is recorded: a refused notify_url enqueues nothing.
  const notifyUrl = rawNotifyUrl === undefined ? undefined : await checkNotifyUrl(deps.config, rawNotifyUrl);
  // Unknown images are refused now, not discovered by a worker later; the ETag each has now
  // goes with its tasks.
  const names = [...new Set(images)];
  const heads = await mapLimit(names, SUBMIT_CONCURRENCY, (name) => headImage(deps, name));
  const etags = new Map(names.map((name, i) => [name, heads[i].ETag]));
  const route = deps.config.dispatch.mode === 'capability' ? routeFor(steps.map((st) => st.name)) : undefined;
  const queueUrl = route ? await routeQueueUrl(deps, route) : await taskQueueUrl(deps);
  const batchId = randomUUID();
  const now = Date.now();
  const deadlineAt = deadlineS === undefined ? undefined : new Date(now + deadlineS * 1000).toISOString();
  const messages: TaskMessage[] = images.map((image) => {
    const etag = etags.get(image);
    // Only an ETag the worker's validation accepts: any other would fail the task as invalid.
    return {
      task_id: randomUUID(),
      batch_id: batchId,
      image,
      steps,
      queued_at: now,
      ...(route ? { route: route.name } : {}),
      ...(isMessageEtag(etag) ? { image_etag: etag } : {}),
      ...(deadlineAt ? { deadline_at: deadlineAt } : {}),
      ...(output ? { output } : {}),
    };
  });
  await createTasks(deps, messages, { jobId: batchId, deadlineAt, notifyUrl });
  try {
    await sendTaskMessages(deps, queueUrl, messages, { deduplicationId: (m) => m.task_id, concurrency: SUBMIT_CONCURRENCY, what: 'messages' });
  } catch (e) {
    // Nothing half-submitted: records without a message would stay pending forever, and a
    // message already sent finds no task and is acknowledged unprocessed.
    await deleteTasks(deps, messages.map((m) => m.task_id)).catch(() => undefined);
    await deleteJob(deps, batchId).catch(() => undefined);
    throw e;
  }
  // The job's first events (job.created) go out now rather than at the next scheduled run.
  if (notifyUrl) await wakeWebhookSender(deps);
  const ids = messages.map((m) => m.task_id);
  return {
    task_id: ids[0],
    task_ids: ids,
    job_id: batchId,
    job_url: jobUrl(batchId),
    batch_id: batchId,
    ...(deadlineAt ? { deadline_at: deadlineAt } : {}),
    status: 'pending',
    dispatch: deps.config.dispatch.mode,
    ...(route ? { route: route.name } : {}),
    filters: steps.map((s) => s.name),
    images,
    status_url: `/api/task/${ids[0]}/status/`,
    status_urls: ids.map((id) => `/api/task/${id}/status/`),
  };
}
