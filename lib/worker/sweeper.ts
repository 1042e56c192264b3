/**
 * The dead-letter sweeper: settles tasks whose message reached the dead-letter queue while
 * the task still reads pending or processing — the last delivery could not record its
 * ending (Redis was down), or its worker died on it. Nothing will deliver such a task
 * again, so it is recorded failed / worker_failure. One exception: a task whose worker died
 * on it after fewer attempts than MAX_RECEIVE_COUNT had deliveries that never started (a
 * message read ahead by a worker killed with it, or lost between receive and claim), so its
 * budget went on crashes of other tasks; it is sent back once instead. Reads never do this (GET stays a read):
 * every worker process runs a sweep each SWEEP_INTERVAL_S, and on AWS a scheduled
 * function does (serverless.yml `sweeper`). A Redis lock lets one sweep run at a time, and
 * the DLQ is only read when its depth changed since the last complete sweep.
 */
import { ChangeMessageVisibilityCommand, type Message } from '@aws-sdk/client-sqs';
import type { Clients } from '../core/clients';
import { dependency } from '../core/dependencies';
import { deleteDeadLetter, receiveDeadLetters } from '../tasks/dead-letters';
import { taskIdOf } from '../tasks/message';
import { taskUpdate, type Ending } from '../tasks/outcomes';
import { deadLetterQueueUrl, queueDepth } from '../tasks/queues';
import { sendTaskAgain } from '../tasks/submit';
import { finishAttempt, getTask, markSentAgain, messageOf, type TaskRecord } from '../tasks/store';
import { listWorkers, type WorkerView } from './registry';

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
  /** Tasks sent back to their queue (see sendsAgain). */
  sentAgain: string[];
}

/**
 * A lost worker's task that had deliveries no worker started, and was not sent back before:
 * poison (an image that kills every worker that tries it) claims every delivery, so it
 * still ends failed after MAX_RECEIVE_COUNT attempts.
 */
export function sendsAgain(task: TaskRecord, ending: Ending, maxReceiveCount: number): boolean {
  return ending.outcome === 'worker_lost' && task.attempts < maxReceiveCount && !task.sent_again_at;
}

async function settleDeadLetter(deps: Clients, dlq: string, m: Message, workers: WorkerView[]): Promise<{ settled?: string; sentAgain?: string; pending: boolean }> {
  const id = taskIdOf(m.Body ?? '');
  const task = id ? await getTask(deps, id) : null;
  if (!task) return { pending: false };
  const ending = deadLetterEnding(task, workers);
  if (!ending) return { pending: task.status === 'processing' };
  const max = deps.config.aws.maxReceiveCount;
  if (sendsAgain(task, ending, max)) {
    const unstarted = max - task.attempts;
    const note = `sent back once by the dead-letter sweeper: worker ${task.worker_id} stopped during attempt ${task.attempts}, and ${unstarted} of its ${max} deliveries never started (taken ahead by a worker that stopped, or lost before their claim)`;
    // Marked first: a sweeper that stops before sending leaves the task pending with its dead
    // letter still there, which the next sweep settles as failed rather than losing it.
    if (await markSentAgain(deps, task.task_id, task.attempts, note)) {
      await sendTaskAgain(deps, messageOf(task), 'sent-again');
      await deleteDeadLetter(deps, dlq, m);
      return { sentAgain: task.task_id, pending: false };
    }
    return { pending: false };
  }
  const fields = taskUpdate(ending, { attempts: task.attempts, maxReceiveCount: max, workerId: task.worker_id });
  return { settled: (await finishAttempt(deps, task.task_id, task.attempts, ending.outcome, fields)) ? task.task_id : undefined, pending: false };
}

export async function sweepDeadLetters(deps: Clients): Promise<SweepReport> {
  const idle: SweepReport = { swept: false, checked: 0, settled: [], sentAgain: [] };
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
  const sentAgain: string[] = [];
  let complete = messages.length >= total;
  for (const m of messages) {
    let deleted = false;
    try {
      const r = await settleDeadLetter(deps, dlq, m, workers);
      if (r.settled) settled.push(r.settled);
      if (r.sentAgain) sentAgain.push(r.sentAgain);
      deleted = r.sentAgain !== undefined;
      if (r.pending) complete = false;
    } catch {
      complete = false;
    } finally {
      // Otherwise the sweeper only looks: listing and redrive see the message again at once.
      if (!deleted) await dependency('sqs', () => deps.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: dlq, ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 }))).catch(() => undefined);
    }
  }
  // A message sent back changed the depth just read: the next sweep reads the DLQ again.
  if (complete && sentAgain.length === 0) await dependency('redis', () => deps.redis.set(depthKey(deps), String(total), 'EX', DEPTH_TTL_S));
  return { swept: true, checked: messages.length, settled, sentAgain };
}
