/** GET /api/task/{id}/status/ and GET /api/workers/status/. */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Clients } from '../core/clients';
import { NotFoundError } from '../core/errors';
import { validateTaskId } from './message';
import { ROUTES, routeQueueName, routeQueueUrl } from './dispatch';
import { deadLetterQueueUrl, queueDepth, taskQueueUrl } from './queues';
import { offlineAfterS, type WorkerView } from '../worker/registry';
import { listWorkerViews } from '../worker/liveness';
import { getTask, omitFields, outcomeTotals, pickFields, type TaskRecord } from './store';

function canServe(w: WorkerView, filters: string[]): boolean {
  return filters.every((f) => w.capabilities.includes(f));
}

/**
 * Why a task is not finished yet, from the task and the workers alone (a pure function:
 * reading a status never changes a task). A finished task keeps the explanation its ending
 * recorded. `maxReceiveCount` tells a crash on the last allowed delivery from one that
 * SQS will redeliver.
 */
export function explainPending(task: TaskRecord, workers: WorkerView[], maxReceiveCount: number): string | null {
  const alive = workers.filter((w) => w.alive);
  if (task.status === 'pending') {
    // Capability dispatch: the task waits in its class queue instead of failing.
    if (task.route && !alive.some((w) => canServe(w, task.filters))) return `Waiting for a worker with capabilities [${task.filters.filter((f, i, all) => all.indexOf(f) === i).join(', ')}]`;
    if (alive.length === 0) return 'No workers available to process task';
    if (!alive.some((w) => canServe(w, task.filters))) return `Waiting in the queue; no live worker can handle all of [${task.filters.join(', ')}], so whichever takes it will fail it (FIFO dispatch)`;
    return task.attempts > 0 ? `Waiting for redelivery after attempt ${task.attempts} (${task.last_error ?? 'worker stopped'})` : 'Waiting in the queue for a worker';
  }
  if (task.status === 'processing') {
    const owner = workers.find((w) => w.id === task.worker_id);
    if (owner && !owner.alive) {
      const next = task.attempts >= maxReceiveCount
        ? 'that was its last allowed delivery, so its message goes to the dead-letter queue and the sweeper records the task failed'
        : 'SQS redelivers its message after the visibility timeout';
      return `Worker ${task.worker_id} stopped during attempt ${task.attempts}; ${next}`;
    }
    return `Being processed by ${task.worker_id} (attempt ${task.attempts})`;
  }
  return task.explanation;
}

/** Stored fields the status response shows in its own shape (`result`), or only for a failed task. */
const RESULT_FIELDS = ['result_key', 'width', 'height', 'bytes'] as const;
const FAILURE_FIELDS = ['failure_type', 'failure_reason'] as const;

export async function taskStatus(deps: Clients, rawId: string | undefined) {
  const id = validateTaskId(rawId);
  const task = await getTask(deps, id);
  if (!task) throw new NotFoundError(`task ${id} does not exist (or expired after 7 days)`, { field: 'task_id' });
  const workers = await listWorkerViews(deps);
  const resultUrl = task.result_key
    ? await getSignedUrl(deps.s3, new GetObjectCommand({ Bucket: deps.config.aws.bucket, Key: task.result_key }), { expiresIn: deps.config.aws.presignTtlS })
    : null;
  return {
    ...omitFields(task, [...RESULT_FIELDS, ...FAILURE_FIELDS, 'explanation']),
    ...(task.status === 'failed' ? pickFields(task, FAILURE_FIELDS) : {}),
    explanation: explainPending(task, workers, deps.config.aws.maxReceiveCount),
    result: task.result_key ? { key: task.result_key, url: resultUrl, width: task.width, height: task.height, bytes: task.bytes } : null,
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
    heartbeat: { interval_s: deps.config.workers.heartbeatIntervalS, offline_after_s: offlineAfterS(deps) },
    dispatch: deps.config.dispatch.mode,
  };
}
