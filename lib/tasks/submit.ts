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
import { DependencyUnavailableError } from '../core/errors';
import { filterFields, paramsNamedInFilters, stepsOf } from '../filters/request';
import { parseWith, strictBody } from '../core/validate';
import { DEFAULT_IMAGE, headImage, imageListSchema } from '../images/source';
import { routeFor, routeQueueUrl } from './dispatch';
import { taskQueueUrl } from './queues';
import { isMessageEtag } from './message';
import { createTasks, deleteTasks, type TaskMessage } from './store';
import { sendGrouped, SEND_BATCH_MAX } from './grouped-sends';

/** One SendMessageBatch's worth: a submission's messages always go in one call. */
export const MAX_TASKS_PER_SUBMISSION = SEND_BATCH_MAX;

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

/** The submission body: the batch endpoints' filters, and up to one SendMessageBatch of images, one task each. */
export const DistributedBody = strictBody(
  {
    ...filterFields,
    images: imageListSchema(MAX_TASKS_PER_SUBMISSION, 'one task each').default(() => [DEFAULT_IMAGE]),
  },
  [paramsNamedInFilters],
).transform((v) => ({ steps: stepsOf(v), images: v.images }));

export function parseDistributedRequest(body: Record<string, unknown>) {
  return parseWith(DistributedBody, body);
}

export type DistributedRequest = ReturnType<typeof parseDistributedRequest>;

export async function submitDistributed(deps: Clients, { steps, images }: DistributedRequest) {
  // Unknown images are refused now, not discovered by a worker later; the ETag each has now
  // goes with its tasks.
  const names = [...new Set(images)];
  const heads = await Promise.all(names.map((name) => headImage(deps, name)));
  const etags = new Map(names.map((name, i) => [name, heads[i].ETag]));
  const route = deps.config.dispatch.mode === 'capability' ? routeFor(steps.map((st) => st.name)) : undefined;
  const queueUrl = route ? await routeQueueUrl(deps, route) : await taskQueueUrl(deps);
  const batchId = randomUUID();
  const now = Date.now();
  const messages: TaskMessage[] = images.map((image) => {
    const etag = etags.get(image);
    // Only an ETag the worker's validation accepts: any other would fail the task as invalid.
    return { task_id: randomUUID(), batch_id: batchId, image, steps, queued_at: now, ...(route ? { route: route.name } : {}), ...(isMessageEtag(etag) ? { image_etag: etag } : {}) };
  });
  await createTasks(deps, messages);
  try {
    const failed = await dependency('sqs', () =>
      sendGrouped(
        deps.sqs,
        queueUrl,
        messages.map((m, i) => ({ Id: String(i), MessageBody: JSON.stringify(m), MessageGroupId: m.task_id, MessageDeduplicationId: m.task_id })),
      ),
    );
    // A partial refusal is SQS failing, not the request: a 503 the client may retry.
    if (failed.length) {
      throw new DependencyUnavailableError('sqs', `sqs refused ${failed.length} of ${messages.length} messages; retry shortly`, new Error(`${failed[0].Code}: ${failed[0].Message ?? ''}`));
    }
  } catch (e) {
    // Nothing half-submitted: records without a message would stay pending forever.
    await deleteTasks(deps, messages.map((m) => m.task_id)).catch(() => undefined);
    throw e;
  }
  const ids = messages.map((m) => m.task_id);
  return {
    task_id: ids[0],
    task_ids: ids,
    batch_id: batchId,
    status: 'pending',
    dispatch: deps.config.dispatch.mode,
    ...(route ? { route: route.name } : {}),
    filters: steps.map((s) => s.name),
    images,
    status_url: `/api/task/${ids[0]}/status/`,
    status_urls: ids.map((id) => `/api/task/${id}/status/`),
  };
}
