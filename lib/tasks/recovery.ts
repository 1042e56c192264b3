/**
 * After the AWS emulator lost its queues (a restart of the embedded fauxqs or of the whole
 * local stack, or of a LocalStack without persistence), Redis still holds every task. This
 * puts back what the emulator forgot: a message for each task not yet finished, a
 * recomputation for each completed task whose result object is gone, and a dead letter for
 * each task that failed into the dead-letter queue, so it can still be listed and redriven.
 * Deliveries stay safe to repeat: a task that finishes meanwhile is claimed once, and results
 * have one fixed key.
 */
import type { Clients } from '../core/clients';
import { PROCESSED_PREFIX } from '../images/keys';
import { listKeys } from '../images/retention';
import { objectExists } from '../images/source';
import { sendTaskMessages } from './grouped-sends';
import { deadLetterQueueUrl } from './queues';
import { allTaskIds, getTasks, messageOf, requeueTask, type TaskMessage, type TaskRecord } from './store';
import { sendTaskAgain } from './submit';

/** Tasks read from Redis per round trip: big enough to be quick, small enough not to block Redis. */
const RECOVERY_BATCH = 200;
/** The dead-letter queue's MessageRetentionPeriod (14 days, locally and on the aws stage). */
const DEAD_LETTER_RETENTION_MS = 14 * 86_400_000;

/** Finished at or after `since`; a record without a finish time counts as recent. */
function finishedSince(task: TaskRecord, since: number): boolean {
  return !(Date.parse(task.finished_at ?? '') < since);
}

/** Failures whose message SQS moved to the dead-letter queue (lib/tasks/outcomes.ts). */
function wasDeadLettered(task: TaskRecord, keptSince: number): boolean {
  return task.status === 'failed' && task.failure_type === 'worker_failure' && finishedSince(task, keptSince);
}

/** Up to this many result keys are checked one HeadObject each; more, by listing processed/. */
const HEAD_CHECKS_MAX = 100;

/**
 * Which of `keys` are in the bucket. A long history is checked by listing processed/ (1,000
 * keys a request) rather than one request per task, so a restart stays quick.
 */
async function storedResults(deps: Clients, keys: string[]): Promise<(key: string) => boolean> {
  if (keys.length <= HEAD_CHECKS_MAX) {
    const found = new Set<string>();
    for (const key of keys) if (await objectExists(deps, key)) found.add(key);
    return (key) => found.has(key);
  }
  const found = new Set(await listKeys(deps, PROCESSED_PREFIX));
  // A key outside processed/ (none is written today) is not in that listing: ask for it.
  for (const key of keys) if (!key.startsWith(PROCESSED_PREFIX) && (await objectExists(deps, key))) found.add(key);
  return (key) => found.has(key);
}

async function restoreDeadLetters(deps: Clients, messages: TaskMessage[]): Promise<void> {
  if (messages.length === 0) return;
  const dlqUrl = await deadLetterQueueUrl(deps);
  const restoredAt = Date.now();
  await sendTaskMessages(deps, dlqUrl, messages, { deduplicationId: (m) => `${m.task_id}-restored-${restoredAt}`, concurrency: 1, what: 'restored dead letters' });
}

/**
 * `resultsKeptMs`: results older than this were removed on purpose (the retention rule), so
 * their absence is not a loss to recompute.
 */
export async function recoverAfterEmulatorLoss(deps: Clients, resultsKeptMs = Infinity): Promise<{ resent: number; recomputed: number; deadLetters: number }> {
  const ids = await allTaskIds(deps);
  const keptSince = Date.now() - resultsKeptMs;
  const deadLettersKeptSince = Date.now() - DEAD_LETTER_RETENTION_MS;
  let resent = 0;
  let recomputed = 0;
  let deadLetters = 0;
  const completed: TaskRecord[] = [];
  for (let i = 0; i < ids.length; i += RECOVERY_BATCH) {
    const batch = await getTasks(deps, ids.slice(i, i + RECOVERY_BATCH));
    const dead = batch.filter((task) => wasDeadLettered(task, deadLettersKeptSince)).map(messageOf);
    await restoreDeadLetters(deps, dead);
    deadLetters += dead.length;
    for (const task of batch) {
      if (task.status === 'pending' || task.status === 'processing') {
        await sendTaskAgain(deps, messageOf(task), 'recovered');
        resent++;
      } else if (task.status === 'completed' && task.result_key && finishedSince(task, keptSince)) {
        completed.push(task);
      }
    }
  }
  const stored = await storedResults(deps, completed.map((t) => t.result_key!));
  for (const task of completed) {
    if (stored(task.result_key!)) continue;
    if ((await requeueTask(deps, task.task_id, 'result lost with the emulator; recomputing', true)) === 'completed') {
      await sendTaskAgain(deps, messageOf(task), 'recovered');
      recomputed++;
    }
  }
  return { resent, recomputed, deadLetters };
}
