/**
 * The dead-letter sweeper: settles tasks whose message reached the dead-letter queue while
 * the task still reads pending or processing — the last delivery could not record its
 * ending (Redis was down), or its worker died on it. Nothing will deliver such a task
 * again, so it is recorded failed / worker_failure. Reads never do this (GET stays a read):
 * every worker process runs a sweep each SWEEP_INTERVAL_S, and on AWS a scheduled
 * function does (serverless.yml `sweeper`). A Redis lock lets one sweep run at a time, and
 * the DLQ is only read when its depth changed since the last complete sweep.
 */
import { ChangeMessageVisibilityCommand, type Message } from '@aws-sdk/client-sqs';
import type { Clients } from '../core/clients';
import { dependency } from '../core/dependencies';
import { listWorkers, type WorkerView } from '../worker/registry';
import { receiveDeadLetters } from './dead-letters';
import { taskIdOf } from './message';
import { taskUpdate, type Ending } from './outcomes';
import { deadLetterQueueUrl, queueDepth } from './queues';
import { finishAttempt, getTask, type TaskRecord } from './store';

/** At most this many dead letters are read per sweep; a larger DLQ is swept over several. */
const SWEEP_MAX = 300;
/** Dead letters stay invisible to others this long at most while a sweep reads them. */
const HOLD_S = 10;
/** The DLQ depth last swept completely is remembered this long. */
const DEPTH_TTL_S = 24 * 3600;

const lockKey = (deps: Clients) => deps.key('sweeper', 'lock');
const depthKey = (deps: Clients) => deps.key('sweeper', 'dlq-depth');

/** How a dead-lettered task that is not finished ends; undefined while its worker is still on it. */
export function deadLetterEnding(task: TaskRecord, workers: WorkerView[]): Ending | undefined {
  if (task.status === 'pending') {
    return {
      outcome: 'dead_lettered',
      error: task.last_error ?? (task.attempts === 0 ? 'no delivery could record an attempt (Redis unreachable during every delivery)' : `attempt ${task.attempts} recorded no error`),
    };
  }
  if (task.status !== 'processing') return undefined;
  const owner = workers.find((w) => w.id === task.worker_id);
  // A worker that outlived its visibility timeout may still finish; its own record wins.
  if (owner?.alive && owner.current_task === task.task_id) return undefined;
  return { outcome: 'worker_lost', error: `worker ${task.worker_id} did not finish attempt ${task.attempts}` };
}

export interface SweepReport {
  swept: boolean;
  checked: number;
  settled: string[];
}

async function settleDeadLetter(deps: Clients, m: Message, workers: WorkerView[]): Promise<{ settled?: string; pending: boolean }> {
  const id = taskIdOf(m.Body ?? '');
  const task = id ? await getTask(deps, id) : null;
  if (!task) return { pending: false };
  const ending = deadLetterEnding(task, workers);
  if (!ending) return { pending: task.status === 'processing' };
  const fields = taskUpdate(ending, { attempts: task.attempts, maxReceiveCount: deps.config.aws.maxReceiveCount, workerId: task.worker_id });
  return { settled: (await finishAttempt(deps, task.task_id, task.attempts, ending.outcome, fields)) ? task.task_id : undefined, pending: false };
}

export async function sweepDeadLetters(deps: Clients): Promise<SweepReport> {
  const idle: SweepReport = { swept: false, checked: 0, settled: [] };
  const lock = await dependency('redis', () => deps.redis.set(lockKey(deps), String(process.pid), 'EX', deps.config.workers.sweepIntervalS, 'NX'));
  if (lock !== 'OK') return idle;
  const dlq = await deadLetterQueueUrl(deps);
  const depth = await queueDepth(deps, dlq);
  const total = depth.visible + depth.in_flight;
  const last = await dependency('redis', () => deps.redis.get(depthKey(deps)));
  if (last === String(total)) return idle;

  const messages = total === 0 ? [] : await receiveDeadLetters(deps, SWEEP_MAX, HOLD_S);
  const workers = await listWorkers(deps);
  const settled: string[] = [];
  let complete = messages.length >= total;
  for (const m of messages) {
    try {
      const r = await settleDeadLetter(deps, m, workers);
      if (r.settled) settled.push(r.settled);
      if (r.pending) complete = false;
    } catch {
      complete = false;
    } finally {
      // The sweeper only looks: listing and redrive see the message again at once.
      await dependency('sqs', () => deps.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: dlq, ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 }))).catch(() => undefined);
    }
  }
  if (complete) await dependency('redis', () => deps.redis.set(depthKey(deps), String(total), 'EX', DEPTH_TTL_S));
  return { swept: true, checked: messages.length, settled };
}
