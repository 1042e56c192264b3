/** GET /api/task/{id}/status/ and GET /api/workers/status/. */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Clients } from '../core/clients';
import { NotFoundError, ValidationError } from '../core/errors';
import { ROUTES, routeQueueName, routeQueueUrl } from './dispatch';
import { deadLetterQueueUrl, queueDepth, taskQueueUrl } from './queues';
import type { WorkerView } from '../worker/registry';
import { listWorkerViews } from '../worker/liveness';
import { finishAttempt, getTask, outcomeTotals, type TaskRecord } from './store';

const TASK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function validateTaskId(raw: string | undefined): string {
  if (!raw || !TASK_ID.test(raw)) {
    throw new ValidationError(`task id must be a UUID such as 3f2b8c1e-9d4a-4e7b-8a61-2c5d9e0f1a2b; got ${JSON.stringify((raw ?? '').slice(0, 80))}`, { field: 'task_id' });
  }
  return raw;
}

function canServe(w: WorkerView, filters: string[]): boolean {
  return filters.every((f) => w.capabilities.includes(f));
}

/**
 * A task still "processing" whose worker is gone and which has used its last delivery will
 * never finish (its message is in the dead-letter queue): record it as a worker failure.
 */
async function settleAbandoned(deps: Clients, task: TaskRecord, workers: WorkerView[]): Promise<TaskRecord> {
  if (task.status !== 'processing' || task.attempts < deps.config.aws.maxReceiveCount) return task;
  const owner = workers.find((w) => w.id === task.worker_id);
  const startedMs = task.started_at ? Date.parse(task.started_at) : 0;
  const visibilityOver = Date.now() - startedMs > deps.config.aws.visibilityTimeoutS * 1000;
  if (owner?.alive && owner.current_task === task.task_id) return task;
  if (!visibilityOver) return task;
  await finishAttempt(deps, task.task_id, task.attempts, 'worker_lost', {
    status: 'failed',
    finished_at: new Date().toISOString(),
    failure_type: 'worker_failure',
    failure_reason: 'worker_lost',
    explanation: `The worker processing the task stopped on each of ${task.attempts} deliveries; the message is in the dead-letter queue`,
    error: `worker ${task.worker_id} stopped during attempt ${task.attempts}`,
  });
  return (await getTask(deps, task.task_id)) ?? task;
}

export async function taskStatus(deps: Clients, rawId: string | undefined) {
  const id = validateTaskId(rawId);
  let task = await getTask(deps, id);
  if (!task) throw new NotFoundError(`task ${id} does not exist (or expired after 7 days)`, { field: 'task_id' });
  const workers = await listWorkerViews(deps);
  task = await settleAbandoned(deps, task, workers);
  const alive = workers.filter((w) => w.alive);
  let explanation = task.explanation;
  if (task.status === 'pending') {
    if (task.route && !alive.some((w) => canServe(w, task!.filters))) {
      // Capability dispatch: the task waits in its class queue instead of failing.
      explanation = `Waiting for a worker with capabilities [${task.filters.filter((f, i, all) => all.indexOf(f) === i).join(', ')}]`;
    } else if (alive.length === 0) explanation = 'No workers available to process task';
    else if (!alive.some((w) => canServe(w, task!.filters))) explanation = `Waiting in the queue; no live worker can handle all of [${task.filters.join(', ')}], so whichever takes it will fail it (FIFO dispatch)`;
    else explanation = task.attempts > 0 ? `Waiting for redelivery after attempt ${task.attempts} (${task.last_error ?? 'worker stopped'})` : 'Waiting in the queue for a worker';
  } else if (task.status === 'processing') {
    explanation = `Being processed by ${task.worker_id} (attempt ${task.attempts})`;
  }
  const resultUrl = task.result_key
    ? await getSignedUrl(deps.s3, new GetObjectCommand({ Bucket: deps.config.aws.bucket, Key: task.result_key }), { expiresIn: deps.config.aws.presignTtlS })
    : null;
  return {
    task_id: task.task_id,
    status: task.status,
    ...(task.status === 'failed' ? { failure_type: task.failure_type, failure_reason: task.failure_reason } : {}),
    explanation,
    error: task.error,
    worker_id: task.worker_id,
    attempts: task.attempts,
    attempt_history: task.attempt_history,
    batch_id: task.batch_id,
    route: task.route,
    image: task.image,
    filters: task.filters,
    filter_params: task.filter_params,
    queued_at: task.queued_at,
    started_at: task.started_at,
    finished_at: task.finished_at,
    queue_wait_ms: task.queue_wait_ms,
    processing_ms: task.processing_ms,
    filter_ms: task.filter_ms,
    timings: task.timings,
    result: task.result_key ? { key: task.result_key, url: resultUrl, width: task.width, height: task.height, bytes: task.bytes } : null,
    last_error: task.last_error,
  };
}

export async function workersStatus(deps: Clients) {
  const capability = deps.config.dispatch.mode === 'capability';
  const [workers, totals, main, dlq, routes] = await Promise.all([
    listWorkerViews(deps),
    outcomeTotals(deps),
    taskQueueUrl(deps).then((u) => queueDepth(deps, u)),
    deadLetterQueueUrl(deps).then((u) => queueDepth(deps, u)),
    capability ? Promise.all(ROUTES.map(async (r) => ({ route: r.name, filters: r.filters, queue: routeQueueName(deps, r), ...(await queueDepth(deps, await routeQueueUrl(deps, r))) }))) : undefined,
  ]);
  const alive = workers.filter((w) => w.alive);
  return {
    workers,
    summary: {
      total: workers.length,
      alive: alive.length,
      busy: alive.filter((w) => w.status === 'busy').length,
      offline: workers.length - alive.length,
      capabilities_available: [...new Set(alive.flatMap((w) => w.capabilities))].sort(),
    },
    queue: routes
      ? {
          name: 'per worker class',
          visible: routes.reduce((a, r) => a + r.visible, 0),
          in_flight: routes.reduce((a, r) => a + r.in_flight, 0),
          dead_letter: dlq.visible + dlq.in_flight,
          routes,
        }
      : { name: deps.config.aws.queueName, visible: main.visible, in_flight: main.in_flight, dead_letter: dlq.visible + dlq.in_flight },
    tasks: totals,
    liveness: deps.config.workers.liveness,
    heartbeat: { interval_s: deps.config.workers.heartbeatIntervalS, offline_after_s: deps.config.workers.heartbeatIntervalS * 3 },
    dispatch: deps.config.dispatch.mode,
  };
}
