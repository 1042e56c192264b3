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
import { dependency } from '../core/dependencies';
import { DependencyUnavailableError } from '../core/errors';
import { objectExists } from '../images/source';
import { sendGrouped, SEND_BATCH_MAX } from './grouped-sends';
import { deadLetterQueueUrl } from './queues';
import { allTaskIds, getTasks, messageOf, requeueTask, type TaskMessage, type TaskRecord } from './store';
import { sendTaskAgain } from './submit';

/** Tasks read from Redis per round trip: big enough to be quick, small enough not to block Redis. */
const RECOVERY_BATCH = 200;
/** The dead-letter queue's MessageRetentionPeriod (14 days, locally and on the aws stage). */
const DEAD_LETTER_RETENTION_MS = 14 * 86_400_000;

/** Failures whose message SQS moved to the dead-letter queue (lib/tasks/outcomes.ts). */
function wasDeadLettered(task: TaskRecord, keptSince: number): boolean {
  return task.status === 'failed' && task.failure_type === 'worker_failure' && !(Date.parse(task.finished_at ?? '') < keptSince);
}

async function restoreDeadLetters(deps: Clients, messages: TaskMessage[]): Promise<void> {
  if (messages.length === 0) return;
  const dlqUrl = await deadLetterQueueUrl(deps);
  const restoredAt = Date.now();
  for (let i = 0; i < messages.length; i += SEND_BATCH_MAX) {
    const chunk = messages.slice(i, i + SEND_BATCH_MAX);
    const failed = await dependency('sqs', () =>
      sendGrouped(deps.sqs, dlqUrl, chunk.map((m, j) => ({ Id: String(j), MessageBody: JSON.stringify(m), MessageGroupId: m.task_id, MessageDeduplicationId: `${m.task_id}-restored-${restoredAt}` }))),
    );
    if (failed.length) throw new DependencyUnavailableError('sqs', `sqs refused ${failed.length} restored dead letter(s)`, new Error(`${failed[0].Code}: ${failed[0].Message ?? ''}`));
  }
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
  for (let i = 0; i < ids.length; i += RECOVERY_BATCH) {
    const batch = await getTasks(deps, ids.slice(i, i + RECOVERY_BATCH));
    const dead = batch.filter((task) => wasDeadLettered(task, deadLettersKeptSince)).map(messageOf);
    await restoreDeadLetters(deps, dead);
    deadLetters += dead.length;
    for (const task of batch) {
      if (task.status === 'pending' || task.status === 'processing') {
        await sendTaskAgain(deps, messageOf(task), 'recovered');
        resent++;
      } else if (task.status === 'completed' && task.result_key && !(Date.parse(task.finished_at ?? '') < keptSince) && !(await objectExists(deps, task.result_key))) {
        if ((await requeueTask(deps, task.task_id, 'result lost with the emulator; recomputing', true)) === 'completed') {
          await sendTaskAgain(deps, messageOf(task), 'recovered');
          recomputed++;
        }
      }
    }
  }
  return { resent, recomputed, deadLetters };
}
