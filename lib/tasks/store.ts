/**
 * Task records in Redis: one hash per task plus a time index and outcome counters shared
 * by every API and worker process. State changes that race (two deliveries of one
 * message) go through Lua scripts so a finished task is never claimed again.
 */
import type { Clients } from '../core/clients';
import { dependency } from '../core/dependencies';
import { bucketIndex } from '../core/histogram';
import type { FilterStep } from '../filters/request';
import type { OutputSpec } from '../filters/output';
import { CREATE_JOB, JOB_LUA, TASK_STATUSES } from '../jobs/lua';

/**
 * Per-filter time histograms (lib/core/histogram.ts buckets) that every worker adds to in the
 * script recording a task's outcome (finishAttempt), and /api/metrics reads.
 */
export const filterTimesKey = (deps: Clients, filter: string) => deps.key('metrics', 'filter_ms', filter);
export const filterNamesKey = (deps: Clients) => deps.key('metrics', 'filters');

export type TaskStatus = (typeof TASK_STATUSES)[number];
export type FailureType = 'job_failure' | 'worker_failure';

export interface TaskMessage {
  task_id: string;
  batch_id: string;
  image: string;
  steps: FilterStep[];
  queued_at: number;
  /** Capability dispatch: the worker class whose queue carries the task. */
  route?: string;
  /**
   * The image's S3 ETag when the API accepted the task (from the HEAD that checked it
   * exists). A worker that kept that very version uses it without asking S3 again
   * (lib/images/source.ts). Absent on messages rebuilt from a task record (a requeue or a
   * send-back): those read the image as it is then.
   */
  image_etag?: string;
  /** The job's deadline (ISO 8601): a task not finished by then is timed_out, never started or abandoned at a filter boundary. */
  deadline_at?: string;
  /** What the result is encoded as; absent: JPEG (lib/filters/output.ts). */
  output?: OutputSpec;
}

export interface AttemptRecord {
  attempt: number;
  worker_id: string;
  started_at: string;
  outcome?: string;
}

export interface TaskRecord {
  task_id: string;
  batch_id: string;
  status: TaskStatus;
  image: string;
  filters: string[];
  filter_params: Record<string, unknown>;
  queued_at: string;
  started_at: string | null;
  finished_at: string | null;
  attempts: number;
  worker_id: string | null;
  attempt_history: AttemptRecord[];
  queue_wait_ms: number | null;
  processing_ms: number | null;
  filter_ms: { name: string; ms: number }[] | null;
  /** Where a worker's time went: claim (Redis), fetch (S3 get), process (decode+filters+encode), store (S3 put). */
  timings: { claim_ms: number; fetch_ms: number; process_ms: number; store_ms: number } | null;
  result_key: string | null;
  width: number | null;
  height: number | null;
  bytes: number | null;
  error: string | null;
  failure_type: FailureType | null;
  failure_reason: string | null;
  explanation: string | null;
  last_error: string | null;
  route: string | null;
  /** When the dead-letter sweeper sent the task back (at most once): deliveries of it had never become attempts. */
  sent_again_at: string | null;
  deadline_at: string | null;
  /** '1' once a cancel was asked while the task was processing: its worker stops at the next filter boundary. */
  cancel_requested: string | null;
  /** The submission's output settings; null: JPEG. */
  output: OutputSpec | null;
}

/**
 * Every stored task field and how the Redis hash encodes it: the one list of task fields.
 * `satisfies` makes adding a field to TaskRecord without listing it here a type error.
 */
const FIELD_KINDS = {
  task_id: 'text', batch_id: 'text', status: 'text', image: 'text', filters: 'json', filter_params: 'json', queued_at: 'text',
  started_at: 'text', finished_at: 'text', attempts: 'number', worker_id: 'text', attempt_history: 'json', queue_wait_ms: 'number',
  processing_ms: 'number', filter_ms: 'json', timings: 'json', result_key: 'text', width: 'number', height: 'number', bytes: 'number',
  error: 'text', failure_type: 'text', failure_reason: 'text', explanation: 'text', last_error: 'text', route: 'text',
  sent_again_at: 'text', deadline_at: 'text', cancel_requested: 'text', output: 'json',
} as const satisfies Record<keyof TaskRecord, 'text' | 'number' | 'json'>;

export type TaskField = keyof TaskRecord;
const TASK_FIELDS = Object.keys(FIELD_KINDS) as TaskField[];
const kindOf = (k: string) => (FIELD_KINDS as Record<string, 'text' | 'number' | 'json' | undefined>)[k];

/** The task fields in `fields`, typed: every view of a task (status, dashboard) is one of these. */
export function pickFields<K extends TaskField>(task: TaskRecord, fields: readonly K[]): Pick<TaskRecord, K> {
  return Object.fromEntries(fields.map((f) => [f, task[f]])) as Pick<TaskRecord, K>;
}

/** The task fields not in `fields`. */
export function omitFields<K extends TaskField>(task: TaskRecord, fields: readonly K[]): Omit<TaskRecord, K> {
  return pickFields(task, TASK_FIELDS.filter((f) => !(fields as readonly TaskField[]).includes(f)) as Exclude<TaskField, K>[]);
}

/** What a list of tasks shows per task (the dashboard's recent tasks). */
export const TASK_SUMMARY_FIELDS = [
  'task_id', 'status', 'image', 'filters', 'worker_id', 'attempts', 'queued_at', 'finished_at', 'queue_wait_ms', 'processing_ms',
  'failure_type', 'failure_reason', 'error',
] as const satisfies readonly TaskField[];

export const taskKey = (deps: Clients, id: string) => deps.key('task', id);
const indexKey = (deps: Clients) => deps.key('tasks');
export const outcomesKey = (deps: Clients) => deps.key('tasks', 'outcomes');

/** Tasks are kept TASK_TTL_S; the index is trimmed to the newest entries. */
const INDEX_MAX = 10_000;

/** What every status-changing script needs to keep the task's job in step (lib/jobs/lua.ts): prefix, ttl, now (ISO), now (ms). */
export function jobScriptArgs(deps: Clients): [string, string, string, string] {
  const now = Date.now();
  return [deps.config.redis.prefix, String(deps.config.taskTtlS), new Date(now).toISOString(), String(now)];
}

function encode(fields: Partial<TaskRecord>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    out[k] = v === null ? '' : kindOf(k) === 'json' ? JSON.stringify(v) : String(v);
  }
  return out;
}

function decode(hash: Record<string, string>): TaskRecord {
  // Fields never written read as null, so every status response has the same shape.
  const rec: Record<string, unknown> = Object.fromEntries(TASK_FIELDS.map((f) => [f, null]));
  for (const [k, v] of Object.entries(hash)) {
    const kind = kindOf(k);
    rec[k] = v === '' ? null : kind === 'json' ? JSON.parse(v) : kind === 'number' ? Number(v) : v;
  }
  rec.attempts ??= 0;
  // The Lua scripts' cjson writes an empty history back as {}: it is still the empty list.
  if (!Array.isArray(rec.attempt_history)) rec.attempt_history = [];
  return rec as unknown as TaskRecord;
}

/** A submission's job (lib/jobs/store.ts): its id is the tasks' batch_id. */
export interface NewJob {
  jobId: string;
  deadlineAt?: string;
  notifyUrl?: string;
}

/** Jobs kept in the index at most (they also leave it after TASK_TTL_S). */
export const JOB_INDEX_MAX = 10_000;

/** Records the tasks, pending, and with `job` their job, in one transaction: a job never exists without its tasks. */
export async function createTasks(deps: Clients, messages: TaskMessage[], job?: NewJob): Promise<void> {
  await dependency('redis', async () => {
    const m = deps.redis.multi();
    for (const msg of messages) {
      const filterParams = Object.fromEntries(msg.steps.map((s) => [s.name, s.params]));
      const rec: Partial<TaskRecord> = {
        task_id: msg.task_id,
        batch_id: msg.batch_id,
        status: 'pending',
        image: msg.image,
        filters: msg.steps.map((s) => s.name),
        filter_params: filterParams,
        queued_at: new Date(msg.queued_at).toISOString(),
        attempts: 0,
        attempt_history: [],
        route: msg.route ?? null,
        deadline_at: msg.deadline_at ?? null,
        output: msg.output ?? null,
      };
      m.hset(taskKey(deps, msg.task_id), encode(rec)).expire(taskKey(deps, msg.task_id), deps.config.taskTtlS).zadd(indexKey(deps), msg.queued_at, msg.task_id);
    }
    m.zremrangebyrank(indexKey(deps), 0, -INDEX_MAX - 1);
    if (job) {
      const [prefix, ttl, now, nowMs] = jobScriptArgs(deps);
      const filters = JSON.stringify(messages[0]?.steps.map((st) => st.name) ?? []);
      const deadlineMs = job.deadlineAt ? String(Date.parse(job.deadlineAt)) : '';
      m.eval(CREATE_JOB, 0, prefix, ttl, now, nowMs, job.jobId, String(messages.length), job.deadlineAt ?? '', deadlineMs, job.notifyUrl ?? '', filters, String(JOB_INDEX_MAX), ...messages.map((msg) => msg.task_id));
    }
    const replies = await m.exec();
    const failed = replies?.find(([e]) => e);
    if (failed) throw failed[0];
  });
}

export async function deleteTasks(deps: Clients, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await dependency('redis', () => deps.redis.multi().del(...ids.map((id) => taskKey(deps, id))).zrem(indexKey(deps), ...ids).exec());
}

export async function getTask(deps: Clients, id: string): Promise<TaskRecord | null> {
  const hash = await dependency('redis', () => deps.redis.hgetall(taskKey(deps, id)));
  return Object.keys(hash).length ? decode(hash) : null;
}

export async function getTasks(deps: Clients, ids: string[]): Promise<TaskRecord[]> {
  if (ids.length === 0) return [];
  const replies = await dependency('redis', async () => {
    const m = deps.redis.multi();
    for (const id of ids) m.hgetall(taskKey(deps, id));
    return (await m.exec()) ?? [];
  });
  return replies.map(([, h]) => h as Record<string, string>).filter((h) => h && Object.keys(h).length).map(decode);
}

export async function recentTaskIds(deps: Clients, limit: number): Promise<string[]> {
  return dependency('redis', () => deps.redis.zrevrange(indexKey(deps), 0, limit - 1));
}

// Claims a delivery: refuses tasks already finished, else records the attempt, and marks the
// worker busy with it when its record exists (in the same round trip: the claim is on the path
// between one image and the next).
// A task cancelled while it waited, or past its job's deadline, is ended here instead of run.
// KEYS[1] task hash, KEYS[2] (optional) the worker's hash; ARGV[1] worker id, ARGV[2]
// started_at (ISO time), ARGV[3] task id, then the job arguments (prefix, ttl, now ms).
// Returns {state, attempts}: state 'claimed', or the finished status, or 'missing'.
const CLAIM = `${JOB_LUA}
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing', 0} end
local job_id = redis.call('HGET', KEYS[1], 'batch_id')
if task_terminal(status) then return {status, tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')} end
local ended = nil
if redis.call('HGET', KEYS[1], 'cancel_requested') == '1' then ended = 'cancelled' end
local deadline = redis.call('HGET', KEYS[1], 'deadline_at')
if not ended and deadline and deadline ~= '' and ARGV[2] > deadline then ended = 'timed_out' end
if ended then
  local why = ended == 'cancelled' and 'Cancelled before it started' or ('The job deadline (' .. deadline .. ') passed before the task ran')
  redis.call('HSET', KEYS[1], 'status', ended, 'finished_at', ARGV[2], 'explanation', why)
  job_task_changed(ARGV[4], tonumber(ARGV[5]), ARGV[2], ARGV[6], job_id, ARGV[3], status, ended)
  return {ended, tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')}
end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
local history = cjson.decode(redis.call('HGET', KEYS[1], 'attempt_history') or '[]')
if type(history) ~= 'table' then history = {} end
table.insert(history, {attempt = attempts, worker_id = ARGV[1], started_at = ARGV[2]})
redis.call('HSET', KEYS[1], 'status', 'processing', 'worker_id', ARGV[1], 'started_at', ARGV[2], 'attempt_history', cjson.encode(history))
if KEYS[2] and redis.call('EXISTS', KEYS[2]) == 1 then redis.call('HSET', KEYS[2], 'status', 'busy', 'current_task', ARGV[3]) end
job_task_changed(ARGV[4], tonumber(ARGV[5]), ARGV[2], ARGV[6], job_id, ARGV[3], status, 'processing', {worker_id = ARGV[1], attempt = attempts})
return {'claimed', attempts}
`;

// Finishes a task once: only a task still 'processing' by this attempt changes state.
// KEYS[1] task hash, KEYS[2] outcome counters, KEYS[3] the filter names set, then one filter
// histogram hash per sample (n of them), then (optional) the worker's hash; ARGV[1]
// attempt, ARGV[2] outcome, ARGV[3] the worker's counter field ('' for none), ARGV[4] ms to add
// to its processing_ms_sum ('' for none), ARGV[5] the task the worker goes idle after ('' for
// none), ARGV[6] the number of filter samples n, then n (name, bucket, ms) triples, then
// field/value pairs, then the job arguments (prefix, ttl, now ISO, now ms) as the last four.
// The worker goes idle whether or not this attempt still owns the task,
// but only if that task is still its current one (it may already be on the next).
const FINISH = `${JOB_LUA}
local n = tonumber(ARGV[6])
local jobArgs = #ARGV - 3
local worker = KEYS[4 + n]
if worker and ARGV[5] ~= '' and redis.call('HGET', worker, 'current_task') == ARGV[5] then
  redis.call('HSET', worker, 'status', 'idle', 'current_task', '')
end
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'processing' and status ~= 'pending' then return 0 end
if tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0') ~= tonumber(ARGV[1]) then return 0 end
if worker and ARGV[3] ~= '' then
  redis.call('HINCRBY', worker, ARGV[3], 1)
  if ARGV[4] ~= '' then redis.call('HINCRBYFLOAT', worker, 'processing_ms_sum', ARGV[4]) end
end
local fields = {}
for i = 7 + 3 * n, jobArgs - 1 do table.insert(fields, ARGV[i]) end
redis.call('HSET', KEYS[1], unpack(fields))
local history = cjson.decode(redis.call('HGET', KEYS[1], 'attempt_history') or '[]')
if type(history) == 'table' and #history > 0 then history[#history]['outcome'] = ARGV[2] end
redis.call('HSET', KEYS[1], 'attempt_history', cjson.encode(history))
local newStatus = redis.call('HGET', KEYS[1], 'status')
local extra = nil
if newStatus == 'failed' then extra = {failure_type = redis.call('HGET', KEYS[1], 'failure_type'), failure_reason = redis.call('HGET', KEYS[1], 'failure_reason')} end
job_task_changed(ARGV[jobArgs], tonumber(ARGV[jobArgs + 1]), ARGV[jobArgs + 2], ARGV[jobArgs + 3], redis.call('HGET', KEYS[1], 'batch_id'), redis.call('HGET', KEYS[1], 'task_id'), status, newStatus, extra)
if newStatus == 'completed' or newStatus == 'failed' then
  redis.call('HINCRBY', KEYS[2], newStatus, 1)
  local ft = redis.call('HGET', KEYS[1], 'failure_type')
  if newStatus == 'failed' and ft and ft ~= '' then redis.call('HINCRBY', KEYS[2], 'failed:' .. ft, 1) end
  local pm = redis.call('HGET', KEYS[1], 'processing_ms')
  if newStatus == 'completed' and pm and pm ~= '' then
    redis.call('HINCRBYFLOAT', KEYS[2], 'processing_ms_sum', pm)
    redis.call('HINCRBY', KEYS[2], 'processing_count', 1)
  end
end
if ARGV[2] == 'completed' then
  for i = 1, n do
    local name, bucket, ms = ARGV[4 + 3 * i], ARGV[5 + 3 * i], ARGV[6 + 3 * i]
    redis.call('SADD', KEYS[3], name)
    redis.call('HINCRBY', KEYS[3 + i], bucket, 1)
    redis.call('HINCRBYFLOAT', KEYS[3 + i], 'sum', ms)
    redis.call('HINCRBY', KEYS[3 + i], 'count', 1)
  end
end
return 1
`;

// Sends a dead-lettered task back once (lib/tasks/sweeper.ts): only a task still 'processing'
// by the attempt its dead worker was on, and never twice, goes back to pending with that
// attempt recorded as worker_lost. KEYS[1] task hash; ARGV[1] attempt, ARGV[2] note, ARGV[3] now, then the job arguments.
const SEND_AGAIN = `${JOB_LUA}
local h = redis.call('HMGET', KEYS[1], 'status', 'attempts', 'sent_again_at')
if h[1] ~= 'processing' or tonumber(h[2] or '0') ~= tonumber(ARGV[1]) or (h[3] and h[3] ~= '') then return 0 end
local history = cjson.decode(redis.call('HGET', KEYS[1], 'attempt_history') or '[]')
if type(history) == 'table' and #history > 0 then history[#history]['outcome'] = 'worker_lost' end
redis.call('HSET', KEYS[1], 'status', 'pending', 'sent_again_at', ARGV[3], 'last_error', ARGV[2], 'attempt_history', cjson.encode(history))
job_task_changed(ARGV[4], tonumber(ARGV[5]), ARGV[3], ARGV[6], redis.call('HGET', KEYS[1], 'batch_id'), redis.call('HGET', KEYS[1], 'task_id'), 'processing', 'pending')
return 1
`;

// Puts a task back to pending (a redrive, or a result lost with the emulator), undoing its
// outcome in the counters. KEYS[1] task hash, KEYS[2] outcome counters; ARGV[1] note,
// ARGV[2] '1' to requeue a completed task too, then the job arguments. Returns the previous
// status. A cancelled or timed-out task stays as it is: nobody wants it any more.
const REQUEUE = `${JOB_LUA}
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 'missing' end
if status == 'cancelled' or status == 'timed_out' then return status end
if status == 'completed' then
  if ARGV[2] ~= '1' then return status end
  redis.call('HINCRBY', KEYS[2], 'completed', -1)
  local pm = redis.call('HGET', KEYS[1], 'processing_ms')
  if pm and pm ~= '' then
    redis.call('HINCRBYFLOAT', KEYS[2], 'processing_ms_sum', -tonumber(pm))
    redis.call('HINCRBY', KEYS[2], 'processing_count', -1)
  end
  redis.call('HSET', KEYS[1], 'result_key', '', 'processing_ms', '', 'filter_ms', '', 'timings', '')
end
if status == 'failed' then
  redis.call('HINCRBY', KEYS[2], 'failed', -1)
  local ft = redis.call('HGET', KEYS[1], 'failure_type')
  if ft and ft ~= '' then redis.call('HINCRBY', KEYS[2], 'failed:' .. ft, -1) end
end
redis.call('HSET', KEYS[1], 'status', 'pending', 'failure_type', '', 'failure_reason', '', 'error', '', 'explanation', '', 'finished_at', '', 'last_error', ARGV[1])
job_task_changed(ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6], redis.call('HGET', KEYS[1], 'batch_id'), redis.call('HGET', KEYS[1], 'task_id'), status, 'pending')
return status
`;

/** Returns the task to pending; a completed one only with `includeCompleted`. */
export async function requeueTask(deps: Clients, id: string, note: string, includeCompleted = false): Promise<string> {
  return (await dependency('redis', () => deps.redis.eval(REQUEUE, 2, taskKey(deps, id), outcomesKey(deps), note, includeCompleted ? '1' : '0', ...jobScriptArgs(deps)))) as string;
}

/** Puts a dead-lettered task back to pending for one more delivery; false if it was not still on `attempt`, or was sent back before. */
export async function markSentAgain(deps: Clients, id: string, attempt: number, note: string): Promise<boolean> {
  const [prefix, ttl, now, nowMs] = jobScriptArgs(deps);
  return (await dependency('redis', () => deps.redis.eval(SEND_AGAIN, 1, taskKey(deps, id), String(attempt), note, now, prefix, ttl, nowMs))) === 1;
}

/** Every task id still in the index (newest last). */
export async function allTaskIds(deps: Clients): Promise<string[]> {
  return dependency('redis', () => deps.redis.zrange(indexKey(deps), 0, -1));
}

/** The queue message a task record was created from. */
export function messageOf(task: TaskRecord): TaskMessage {
  return {
    task_id: task.task_id,
    batch_id: task.batch_id,
    image: task.image,
    steps: task.filters.map((name) => ({ name, params: (task.filter_params[name] ?? {}) as FilterStep['params'] })),
    queued_at: Date.parse(task.queued_at),
    ...(task.route ? { route: task.route } : {}),
    ...(task.output ? { output: task.output } : {}),
    ...(task.deadline_at ? { deadline_at: task.deadline_at } : {}),
  };
}

export type ClaimResult = { state: 'claimed'; attempt: number } | { state: 'completed' | 'failed' | 'cancelled' | 'timed_out' | 'missing'; attempt: number };

/** Claims the task for `workerId`; with `busyKey` (the worker's hash) the worker is marked busy with it too. */
export async function claimTask(deps: Clients, id: string, workerId: string, busyKey?: string): Promise<ClaimResult> {
  const keys = [taskKey(deps, id), ...(busyKey ? [busyKey] : [])];
  const [prefix, ttl, now, nowMs] = jobScriptArgs(deps);
  const [state, attempt] = (await dependency('redis', () => deps.redis.eval(CLAIM, keys.length, ...keys, workerId, now, id, prefix, ttl, nowMs))) as [string, number];
  return { state: state as ClaimResult['state'], attempt: Number(attempt) };
}

/**
 * A worker's counter (its hash key, the field, optionally ms for its processing_ms_sum),
 * added in the same script as the outcome: a worker killed between two separate writes would
 * leave a recorded task uncounted.
 */
export interface AttemptCounter {
  key: string;
  field: string;
  processingMs?: number;
}

/**
 * What a worker's finish records in the same script, so a task's end costs one Redis round
 * trip rather than three.
 */
export interface FinishExtras {
  /** The worker's hash and the task it was busy with: it goes idle if that is still its current task. */
  idle?: { key: string; taskId: string };
  /** Each filter's time, added to the /api/metrics histograms if the attempt completes the task. */
  filterTimes?: { name: string; ms: number }[];
}

/** Applies `fields` (and `counter`, and `extras`) if this attempt still owns the task; returns false when it no longer does. */
export async function finishAttempt(deps: Clients, id: string, attempt: number, outcome: string, fields: Partial<TaskRecord>, counter?: AttemptCounter, extras: FinishExtras = {}): Promise<boolean> {
  const flat = Object.entries(encode(fields)).flat();
  const workerKey = counter?.key ?? extras.idle?.key;
  if (counter && extras.idle && extras.idle.key !== counter.key) throw new Error('a finish counts and idles the same worker');
  const samples = outcome === 'completed' ? (extras.filterTimes ?? []) : [];
  const keys = [taskKey(deps, id), outcomesKey(deps), filterNamesKey(deps), ...samples.map((f) => filterTimesKey(deps, f.name)), ...(workerKey ? [workerKey] : [])];
  const args = [
    String(attempt),
    outcome,
    counter?.field ?? '',
    counter?.processingMs === undefined ? '' : String(counter.processingMs),
    extras.idle?.taskId ?? '',
    String(samples.length),
    ...samples.flatMap((f) => [f.name, String(bucketIndex(f.ms)), String(f.ms)]),
    ...flat,
    ...jobScriptArgs(deps),
  ];
  const r = await dependency('redis', () => deps.redis.eval(FINISH, keys.length, ...keys, ...args));
  return r === 1;
}

export async function outcomeTotals(deps: Clients) {
  const h = await dependency('redis', () => deps.redis.hgetall(outcomesKey(deps)));
  const n = (k: string) => Number(h[k] ?? 0);
  const finished = n('completed') + n('failed');
  return {
    completed: n('completed'),
    failed: n('failed'),
    failed_by_type: { job_failure: n('failed:job_failure'), worker_failure: n('failed:worker_failure') },
    success_rate: finished ? Math.round((n('completed') / finished) * 1000) / 1000 : null,
    mean_processing_ms: n('processing_count') ? Math.round((n('processing_ms_sum') / n('processing_count')) * 10) / 10 : null,
  };
}
