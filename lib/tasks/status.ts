/** GET /api/task/{id}/status/. */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Clients } from '../core/clients';
import { NotFoundError } from '../core/errors';
import { validateTaskId } from './message';
import { getTask, omitFields, pickFields, type TaskRecord } from './store';

/** What a task's explanation needs to know of a worker (the worker registry's view has more). */
export interface FleetMember {
  id: string;
  capabilities: string[];
  alive: boolean;
}

/** The workers as they are now (lib/worker/liveness.ts listWorkerViews), given by the caller: tasks sit below the workers. */
export type ListFleet = (deps: Clients) => Promise<FleetMember[]>;

function canServe(w: FleetMember, filters: string[]): boolean {
  return filters.every((f) => w.capabilities.includes(f));
}

/**
 * Why a task is not finished yet, from the task and the workers alone (a pure function:
 * reading a status never changes a task). A finished task keeps the explanation its ending
 * recorded. `maxReceiveCount` tells a crash on the last allowed delivery from one that
 * SQS will redeliver.
 */
export function explainPending(task: TaskRecord, workers: FleetMember[], maxReceiveCount: number): string | null {
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

export async function taskStatus(deps: Clients, rawId: string | undefined, listFleet: ListFleet) {
  const id = validateTaskId(rawId);
  const task = await getTask(deps, id);
  if (!task) throw new NotFoundError(`task ${id} does not exist (or expired after 7 days)`, { field: 'task_id' });
  const workers = await listFleet(deps);
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
