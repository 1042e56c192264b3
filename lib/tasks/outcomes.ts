/**
 * How an attempt at a task can end, and what each ending does: the task's status and
 * failure type, whether the queue message is acknowledged or left for a retry, and which
 * worker counter it adds to. The worker (lib/worker/consume.ts) and the dead-letter sweeper
 * (lib/tasks/sweeper.ts) both settle tasks through this one table.
 */
import type { FailureType, TaskRecord, TaskStatus } from './store';

export type Outcome = 'completed' | 'invalid' | 'rejected' | 'capability_mismatch' | 'error' | 'dead_lettered' | 'worker_lost' | 'cancelled' | 'timed_out';

export interface OutcomeContext {
  attempts: number;
  maxReceiveCount: number;
  workerId: string | null;
}

interface OutcomeRule {
  status: TaskStatus;
  failure_type: FailureType | null;
  /** Used when the ending brings no reason of its own (an error's code). */
  failure_reason: string | null;
  /** ack: delete the message, nothing will change on another delivery; retry: leave it for redelivery after a backoff. */
  message: 'ack' | 'retry';
  /** The worker's counter (GET /api/workers/status/) it adds to. */
  counter: 'processed' | 'failed' | null;
  explanation: ((c: OutcomeContext) => string) | null;
}

export const OUTCOMES: Record<Outcome, OutcomeRule> = {
  completed: { status: 'completed', failure_type: null, failure_reason: null, message: 'ack', counter: 'processed', explanation: null },
  // The message breaks the rules the API enforces (image name, filters, parameters): no delivery can fix it.
  invalid: {
    status: 'failed',
    failure_type: 'job_failure',
    failure_reason: 'invalid_message',
    message: 'ack',
    counter: 'failed',
    explanation: () => 'The task message fails the same validation as the API (image name, filters, parameters); it is not retried',
  },
  // The input cannot be processed (missing, too large or undecodable image, a filter error on these pixels).
  rejected: {
    status: 'failed',
    failure_type: 'job_failure',
    failure_reason: 'image_rejected',
    message: 'ack',
    counter: 'failed',
    explanation: () => 'The task cannot be processed as submitted; it is not retried',
  },
  capability_mismatch: {
    status: 'failed',
    failure_type: 'job_failure',
    failure_reason: 'worker_capability_mismatch',
    message: 'ack',
    counter: 'failed',
    explanation: () => 'Worker took the task but cannot handle the requested filter; the task is lost (FIFO dispatch is not capability-aware)',
  },
  // Transient (a dependency down, an unexpected exception): another delivery may succeed.
  error: { status: 'pending', failure_type: null, failure_reason: null, message: 'retry', counter: null, explanation: null },
  // An `error` on the last allowed delivery: SQS moves the message to the dead-letter queue next.
  dead_lettered: {
    status: 'failed',
    failure_type: 'worker_failure',
    failure_reason: 'max_deliveries_exceeded',
    message: 'retry',
    counter: null,
    explanation: (c) => `No delivery of the task succeeded (${c.maxReceiveCount} allowed); its message is in the dead-letter queue`,
  },
  // Stopped at a filter boundary: a cancel was asked while it ran (no result is written).
  cancelled: { status: 'cancelled', failure_type: null, failure_reason: null, message: 'ack', counter: null, explanation: null },
  // Abandoned at a filter boundary: the job's deadline passed while it ran.
  timed_out: { status: 'timed_out', failure_type: null, failure_reason: null, message: 'ack', counter: null, explanation: null },
  // Found by the sweeper: the message is dead-lettered while the task still reads processing.
  worker_lost: {
    status: 'failed',
    failure_type: 'worker_failure',
    failure_reason: 'worker_lost',
    message: 'ack',
    counter: null,
    explanation: (c) =>
      `The worker processing the task stopped (or lost Redis) during attempt ${c.attempts}, the last allowed delivery; the message is in the dead-letter queue`,
  },
};

/** What happened, as the code that saw it knows it. */
export interface Ending {
  outcome: Outcome;
  /** A machine-readable reason (an error's code) replacing the rule's default. */
  reason?: string;
  /** The human-readable error, kept on the task. */
  error?: string;
  /** Extra fields to store (timings and the result of a completed attempt). */
  fields?: Partial<TaskRecord>;
}

/** A transient ending on the last allowed delivery becomes the dead letter it is about to be. */
export function onDelivery(ending: Ending, receives: number, maxReceiveCount: number): Ending {
  return ending.outcome === 'error' && receives >= maxReceiveCount ? { ...ending, outcome: 'dead_lettered' } : ending;
}

/** The fields an ending writes to its task record. */
export function taskUpdate(ending: Ending, c: OutcomeContext): Partial<TaskRecord> {
  const rule = OUTCOMES[ending.outcome];
  const transient = ending.outcome === 'error' || ending.outcome === 'dead_lettered';
  if (rule.status === 'pending') return { status: 'pending', last_error: ending.error ?? null };
  if (rule.status === 'cancelled' || rule.status === 'timed_out') return { status: rule.status, finished_at: new Date().toISOString(), explanation: ending.error ?? null, ...ending.fields };
  return {
    status: rule.status,
    finished_at: new Date().toISOString(),
    ...(rule.failure_type
      ? { failure_type: rule.failure_type, failure_reason: ending.reason ?? rule.failure_reason, explanation: rule.explanation?.(c) ?? null, error: ending.error ?? null }
      : {}),
    ...(transient ? { last_error: ending.error ?? null } : {}),
    ...ending.fields,
  };
}
