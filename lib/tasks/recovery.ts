/**
 * After the AWS emulator lost its queues (a restart of the embedded fauxqs or of the whole
 * local stack, or of a LocalStack without persistence), Redis still holds every task. This
 * puts back what the emulator forgot: a message for each task not yet finished, and a
 * recomputation for each completed task whose result object is gone. Deliveries stay safe to
 * repeat: a task that finishes meanwhile is claimed once, and results have one fixed key.
 */
import type { Clients } from '../core/clients';
import { objectExists } from '../images/source';
import { allTaskIds, getTasks, messageOf, requeueTask } from './store';
import { sendTaskAgain } from './submit';

/** Tasks read from Redis per round trip: big enough to be quick, small enough not to block Redis. */
const RECOVERY_BATCH = 200;

/**
 * `resultsKeptMs`: results older than this were removed on purpose (the retention rule), so
 * their absence is not a loss to recompute.
 */
export async function recoverAfterEmulatorLoss(deps: Clients, resultsKeptMs = Infinity): Promise<{ resent: number; recomputed: number }> {
  const ids = await allTaskIds(deps);
  const keptSince = Date.now() - resultsKeptMs;
  let resent = 0;
  let recomputed = 0;
  for (let i = 0; i < ids.length; i += RECOVERY_BATCH) {
    for (const task of await getTasks(deps, ids.slice(i, i + RECOVERY_BATCH))) {
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
  return { resent, recomputed };
}
