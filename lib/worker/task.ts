/**
 * A delivered message, read and checked once into the task a worker will run. A queue is an
 * input like any other: the body must be a task message at all (else `unreadable`), its
 * contents must pass the rules the API applied when it was submitted (else `invalid`), and the
 * worker must have every filter it names (else `mismatch`: the seed's capability failure,
 * decided after the task is taken). Only a `runnable` task has its image read.
 */
import { ValidationError } from '../core/errors';
import { readTaskMessage, taskIdOf, validateTaskMessage } from '../tasks/message';
import type { TaskMessage } from '../tasks/store';
import type { FilterStep } from '../filters/request';
import type { WorkerIdentity } from './registry';

/** One delivery of a message, as SQS handed it over (an event record on Lambda, a receive locally). */
export interface Delivery {
  messageId: string;
  receiptHandle: string;
  body: string;
  /** SQS's own count of this message's deliveries: known even when Redis, which counts attempts, is not. */
  receiveCount: number;
  queueName: string;
  /** Known to a runner that received the message itself; looked up by name otherwise. */
  queueUrl?: string;
}

export type PreparedTask =
  | { kind: 'unreadable'; taskId?: string; error: string }
  | { kind: 'invalid'; message: TaskMessage; error: ValidationError }
  | { kind: 'mismatch'; message: TaskMessage; missing: string[] }
  | { kind: 'runnable'; message: TaskMessage; input?: Promise<{ bytes: Buffer }> };

/** The filters of these steps the worker cannot run, each named once. */
export function missingCapabilities(steps: readonly FilterStep[], worker: WorkerIdentity): string[] {
  return steps.map((s) => s.name).filter((f, i, all) => !worker.capabilities.includes(f) && all.indexOf(f) === i);
}

export function prepareTask(delivery: Pick<Delivery, 'body'>, worker: WorkerIdentity): PreparedTask {
  let raw: TaskMessage;
  try {
    raw = readTaskMessage(delivery.body);
  } catch (e) {
    return { kind: 'unreadable', taskId: taskIdOf(delivery.body), error: (e as Error).message };
  }
  let message: TaskMessage;
  try {
    message = validateTaskMessage(raw);
  } catch (e) {
    if (!(e instanceof ValidationError)) throw e;
    return { kind: 'invalid', message: raw, error: e };
  }
  const missing = missingCapabilities(message.steps, worker);
  return missing.length ? { kind: 'mismatch', message, missing } : { kind: 'runnable', message };
}

/** The task a prepared message is about, if any. */
export function preparedTaskId(task: PreparedTask): string | undefined {
  return task.kind === 'unreadable' ? task.taskId : task.message.task_id;
}
