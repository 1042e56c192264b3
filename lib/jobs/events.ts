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

/**
 * Appends one event (seq assigned here) and, when the job has a notify_url, marks its webhook
 * due now unless an earlier time is already set. Keys expire with the job (TASK_TTL_S).
 */
const APPEND = `
local seq = redis.call('LLEN', KEYS[1]) + 1
local event = cjson.decode(ARGV[1])
event['seq'] = seq
redis.call('RPUSH', KEYS[1], cjson.encode(event))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
if redis.call('HGET', KEYS[2], 'notify_url') then
  local due = redis.call('ZSCORE', KEYS[3], ARGV[4])
  if not due or tonumber(due) > tonumber(ARGV[3]) then redis.call('ZADD', KEYS[3], ARGV[3], ARGV[4]) end
end
return seq
`;

export async function appendJobEvent(deps: Clients, event: NewJobEvent): Promise<number> {
  const body = JSON.stringify({ ...event, at: event.at ?? new Date().toISOString() });
  const seq = await dependency('redis', () =>
    deps.redis.eval(APPEND, 3, jobEventsKey(deps, event.job_id), jobKey(deps, event.job_id), webhookDueKey(deps), body, String(deps.config.taskTtlS), String(Date.now()), event.job_id),
  );
  return Number(seq);
}

/** Events with seq > after, oldest first, at most `limit`. */
export async function readJobEvents(deps: Clients, jobId: string, after: number, limit: number): Promise<JobEvent[]> {
  const raw = await dependency('redis', () => deps.redis.lrange(jobEventsKey(deps, jobId), after, after + limit - 1));
  return raw.map((r) => JSON.parse(r) as JobEvent);
}
