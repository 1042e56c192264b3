/**
 * A job's event log: every state change of the job and its tasks, in one Redis list per job,
 * `seq` strictly increasing from 1 (an event's seq is its position in the list). Three readers
 * share it: the JSON page and the SSE stream (GET /api/jobs/{id}/events/) and the webhook
 * sender. State changes append their event in the same Redis script that makes the change, so
 * the log and the counts never disagree; appendJobEvent is the same append from JS.
 *
 * A job with a notify_url is also put in the webhook due set (score: when its next delivery
 * is due, ms) whenever an event is appended, so the sender finds work without scanning.
 */
import type { Clients } from '../core/clients';
import { dependency } from '../core/dependencies';
import { JOB_LUA } from './lua';

export type JobEventType =
  | 'job.created'
  | 'job.running'
  | 'job.completed'
  | 'job.failed'
  | 'job.partial'
  | 'job.cancelled'
  | 'task.processing'
  | 'task.completed'
  | 'task.failed'
  | 'task.cancelled'
  | 'task.timed_out';

/** An event as appended: the log assigns seq, and `at` defaults to now. */
export interface NewJobEvent {
  type: JobEventType;
  job_id: string;
  task_id?: string;
  status: string;
  /** ISO 8601 time of the change. */
  at?: string;
  [extra: string]: unknown;
}

export interface JobEvent extends NewJobEvent {
  seq: number;
  at: string;
}

export const jobKey = (deps: Clients, jobId: string) => deps.key('job', jobId);
export const jobEventsKey = (deps: Clients, jobId: string) => deps.key('job', jobId, 'events');
/** Webhook deliveries attempted for a job, newest last (lib/jobs/webhooks.ts). */
export const jobDeliveriesKey = (deps: Clients, jobId: string) => deps.key('job', jobId, 'deliveries');
/** Jobs with webhook events to deliver, scored by when the next delivery is due (ms since epoch). */
export const webhookDueKey = (deps: Clients) => deps.key('webhooks', 'due');

/** Appends one event (seq assigned by the log), the way the task scripts do (lib/jobs/lua.ts). */
const APPEND = `${JOB_LUA}
return append_event(ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], cjson.decode(ARGV[5]))
`;

export async function appendJobEvent(deps: Clients, event: NewJobEvent): Promise<number> {
  const body = JSON.stringify({ ...event, at: event.at ?? new Date().toISOString() });
  const seq = await dependency('redis', () => deps.redis.eval(APPEND, 0, deps.config.redis.prefix, String(deps.config.taskTtlS), String(Date.now()), event.job_id, body));
  return Number(seq);
}

/** Events with seq > after, oldest first, at most `limit`. */
export async function readJobEvents(deps: Clients, jobId: string, after: number, limit: number): Promise<JobEvent[]> {
  const raw = await dependency('redis', () => deps.redis.lrange(jobEventsKey(deps, jobId), after, after + limit - 1));
  return raw.map((r) => JSON.parse(r) as JobEvent);
}


/** Whether an event ends its job's log: the job's terminal event. */
export function isTerminalJobEvent(e: JobEvent): boolean {
  return e.type.startsWith('job.') && e.type !== 'job.created' && e.type !== 'job.running';
}
