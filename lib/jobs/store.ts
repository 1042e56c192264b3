/**
 * Jobs: one per distributed submission, its id the tasks' batch_id. The job hash holds its
 * counts by task status, kept in step with every task change by the task scripts
 * (lib/jobs/lua.ts); this module reads jobs, lists them, cancels them and their tasks, and
 * times out what passes its deadline.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { Clients } from '../core/clients';
import { dependency } from '../core/dependencies';
import { NotFoundError, ValidationError } from '../core/errors';
import { parseWith, UUID } from '../core/validate';
import { JOB_STATUSES, JobIdPath, JobListQuery, JobTasksQuery } from './schemas';
import { getTasks, jobScriptArgs, type TaskRecord } from '../tasks/store';
import { jobEventsKey, jobKey, webhookDueKey, jobDeliveriesKey } from './events';
import { JOB_LUA } from './lua';

export type JobStatus = (typeof JOB_STATUSES)[number];

const jobTasksKey = (deps: Clients, jobId: string) => deps.key('job', jobId, 'tasks');
const jobIndexKey = (deps: Clients) => deps.key('jobs');
const deadlinesKey = (deps: Clients) => deps.key('jobs', 'deadlines');

export function validateJobId(raw: string | undefined): string {
  return parseWith(JobIdPath, { job_id: raw }).job_id;
}

export interface JobCounts {
  total: number;
  pending: number;
  processing: number;
  completed: number;
  failed: number;
  cancelled: number;
  timed_out: number;
}

export interface JobSummary {
  job_id: string;
  status: JobStatus;
  counts: JobCounts;
  filters: string[];
  created_at: string;
  finished_at: string | null;
  deadline_at: string | null;
  notify_url: string | null;
  job_url: string;
}

export const jobUrl = (jobId: string) => `/api/jobs/${jobId}/`;

function summaryOf(h: Record<string, string>): JobSummary {
  const n = (f: string) => Number(h[f] ?? 0);
  return {
    job_id: h.job_id,
    status: h.status as JobStatus,
    counts: { total: n('total'), pending: n('n_pending'), processing: n('n_processing'), completed: n('n_completed'), failed: n('n_failed'), cancelled: n('n_cancelled'), timed_out: n('n_timed_out') },
    filters: h.filters ? (JSON.parse(h.filters) as string[]) : [],
    created_at: h.created_at,
    finished_at: h.finished_at || null,
    deadline_at: h.deadline_at || null,
    notify_url: h.notify_url || null,
    job_url: jobUrl(h.job_id),
  };
}

/** The job's hash as one read (its counts are one consistent snapshot), or 404. */
export async function getJobSummary(deps: Clients, rawId: string | undefined): Promise<JobSummary> {
  const id = validateJobId(rawId);
  const h = await dependency('redis', () => deps.redis.hgetall(jobKey(deps, id)));
  if (!h.job_id) throw new NotFoundError(`job ${id} does not exist (or expired after TASK_TTL_S)`, { field: 'job_id' });
  return summaryOf(h);
}

async function jobTaskIds(deps: Clients, jobId: string): Promise<string[]> {
  return dependency('redis', () => deps.redis.lrange(jobTasksKey(deps, jobId), 0, -1));
}

async function resultUrl(deps: Clients, key: string): Promise<string> {
  return getSignedUrl(deps.s3, new GetObjectCommand({ Bucket: deps.config.aws.bucket, Key: key }), { expiresIn: deps.config.aws.presignTtlS });
}

/** The format of a stored result, from its key's extension. */
function formatOf(key: string): string {
  const ext = key.slice(key.lastIndexOf('.') + 1).toLowerCase();
  return ext === 'jpg' ? 'jpeg' : ext;
}

/** GET /api/jobs/{id}/: the counts, and every result and failure. */
export async function jobView(deps: Clients, rawId: string | undefined) {
  const job = await getJobSummary(deps, rawId);
  const tasks = await getTasks(deps, await jobTaskIds(deps, job.job_id));
  const done = tasks.filter((t) => t.status === 'completed' && t.result_key);
  const urls = await Promise.all(done.map((t) => resultUrl(deps, t.result_key!)));
  return {
    ...job,
    batch_id: job.job_id,
    results: done.map((t, i) => ({ task_id: t.task_id, image: t.image, status: t.status, key: t.result_key!, url: urls[i], format: formatOf(t.result_key!), width: t.width, height: t.height, bytes: t.bytes })),
    failures: tasks
      .filter((t) => t.status === 'failed' || t.status === 'timed_out' || t.status === 'cancelled')
      .map((t) => ({ task_id: t.task_id, image: t.image, status: t.status, failure_type: t.failure_type, failure_reason: t.failure_reason ?? (t.status === 'failed' ? null : t.status), error: t.error ?? t.explanation })),
  };
}

/** A list position: the created time and id of the last job shown. */
function decodeCursor(raw: string | undefined): { ms: number; id: string } | undefined {
  if (raw === undefined || raw === '') return undefined;
  const m = /^(\d{1,15})_([0-9a-f-]{36})$/.exec(Buffer.from(raw, 'base64url').toString('utf8'));
  if (!m || !UUID.test(m[2])) throw new ValidationError('cursor must be the next_cursor of a previous page', { field: 'cursor' });
  return { ms: Number(m[1]), id: m[2] };
}

const encodeCursor = (ms: number, id: string) => Buffer.from(`${ms}_${id}`, 'utf8').toString('base64url');

/** Jobs read per page at most while filtering by status: a page may come back short, with a cursor to go on. */
const LIST_SCAN_MAX = 500;

/** GET /api/jobs/?status=&limit=&cursor=: newest first. */
export async function listJobs(deps: Clients, query: Record<string, string | undefined>) {
  const { limit, status, cursor } = parseWith(JobListQuery, query);
  const after = decodeCursor(cursor);
  const jobs: JobSummary[] = [];
  let max = after ? String(after.ms) : '+inf';
  let scanned = 0;
  let last: { ms: number; id: string } | undefined = after;
  let exhausted = false;
  while (jobs.length < limit && scanned < LIST_SCAN_MAX) {
    // Equal times come newest id first (Redis orders them by member); the cursor's own time is read again and skipped up to it.
    const raw = await dependency('redis', () => deps.redis.zrevrangebyscore(jobIndexKey(deps), max, '-inf', 'WITHSCORES', 'LIMIT', 0, limit + 50));
    const page: { id: string; ms: number }[] = [];
    for (let i = 0; i < raw.length; i += 2) page.push({ id: raw[i], ms: Number(raw[i + 1]) });
    const fresh = page.filter((p) => !last || p.ms < last.ms || (p.ms === last.ms && p.id < last.id));
    if (fresh.length === 0) {
      exhausted = true;
      break;
    }
    const hashes = await dependency('redis', async () => {
      const m = deps.redis.multi();
      for (const p of fresh) m.hgetall(jobKey(deps, p.id));
      return ((await m.exec()) ?? []).map(([, h]) => h as Record<string, string>);
    });
    for (let i = 0; i < fresh.length && jobs.length < limit; i++) {
      scanned++;
      last = fresh[i];
      if (!hashes[i].job_id) continue; // expired since it was indexed
      const job = summaryOf(hashes[i]);
      if (!status || job.status === status) jobs.push(job);
    }
    max = String(last!.ms);
  }
  return { jobs, next_cursor: !exhausted && last && (jobs.length === limit || scanned >= LIST_SCAN_MAX) ? encodeCursor(last.ms, last.id) : null };
}

/** GET /api/jobs/{id}/tasks/?status=&limit=&cursor=: the job's tasks in submission order. */
export async function listJobTasks(deps: Clients, rawId: string | undefined, query: Record<string, string | undefined>) {
  const job = await getJobSummary(deps, rawId);
  const { limit, status, cursor } = parseWith(JobTasksQuery, query);
  let offset = 0;
  if (cursor !== undefined && cursor !== '') {
    if (!/^\d{1,5}$/.test(cursor)) throw new ValidationError('cursor must be the next_cursor of a previous page', { field: 'cursor' });
    offset = Number(cursor);
  }
  const ids = await jobTaskIds(deps, job.job_id);
  const tasks = (await getTasks(deps, ids)).filter((t) => !status || t.status === status);
  const page = tasks.slice(offset, offset + limit);
  return {
    job_id: job.job_id,
    tasks: page.map((t) => taskSummary(t)),
    next_cursor: offset + limit < tasks.length ? String(offset + limit) : null,
  };
}

function taskSummary(t: TaskRecord) {
  return {
    task_id: t.task_id,
    image: t.image,
    status: t.status,
    attempts: t.attempts,
    worker_id: t.worker_id,
    queued_at: t.queued_at,
    started_at: t.started_at,
    finished_at: t.finished_at,
    result_key: t.result_key,
    failure_type: t.failure_type,
    failure_reason: t.failure_reason,
    error: t.error,
    explanation: t.explanation,
    status_url: `/api/task/${t.task_id}/status/`,
  };
}

/**
 * Cancels tasks: a pending one becomes cancelled at once (a worker that receives it later
 * acknowledges and skips it); a processing one is asked to stop (cancel_requested): its worker
 * stops at the next filter boundary, or completes if it was on its last step. With a job id,
 * the job is marked so its end reads `cancelled`.
 * ARGV: prefix, ttl, now ISO, now ms, job id or '' (cancel the job), then the task hashes' keys.
 * Returns {cancelled, stopping, already_finished}.
 */
const CANCEL = `${JOB_LUA}
local prefix, ttl, now_iso, now_ms = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local cancelled, stopping, finished = 0, 0, 0
local open = {}
for i = 6, #ARGV do
  local status = redis.call('HGET', ARGV[i], 'status')
  if status then
    if task_terminal(status) then finished = finished + 1
    elseif status == 'processing' then
      if redis.call('HGET', ARGV[i], 'cancel_requested') ~= '1' then stopping = stopping + 1 end
      table.insert(open, {ARGV[i], status})
    else table.insert(open, {ARGV[i], status}) end
  end
end
if ARGV[5] ~= '' and #open > 0 then redis.call('HSET', job_key(prefix, ARGV[5]), 'cancel_requested', '1') end
for _, t in ipairs(open) do
  local key, status = t[1], t[2]
  if status == 'processing' then redis.call('HSET', key, 'cancel_requested', '1')
  else
    redis.call('HSET', key, 'status', 'cancelled', 'finished_at', now_iso, 'cancel_requested', '1', 'explanation', 'Cancelled before it started')
    job_task_changed(prefix, ttl, now_iso, now_ms, redis.call('HGET', key, 'batch_id'), redis.call('HGET', key, 'task_id'), status, 'cancelled')
    cancelled = cancelled + 1
  end
end
return {cancelled, stopping, finished}
`;

async function cancelTaskKeys(deps: Clients, jobId: string, taskKeys: string[]) {
  const [prefix, ttl, now, nowMs] = jobScriptArgs(deps);
  const [cancelled, stopping, alreadyFinished] = (await dependency('redis', () => deps.redis.eval(CANCEL, 0, prefix, ttl, now, nowMs, jobId, ...taskKeys))) as number[];
  return { cancelled: Number(cancelled), stopping: Number(stopping), already_finished: Number(alreadyFinished) };
}

/** POST /api/jobs/{id}/cancel/: idempotent; cancelling again changes nothing. */
export async function cancelJob(deps: Clients, rawId: string | undefined) {
  const job = await getJobSummary(deps, rawId);
  const ids = await jobTaskIds(deps, job.job_id);
  const result = await cancelTaskKeys(deps, job.job_id, ids.map((id) => deps.key('task', id)));
  return { job_id: job.job_id, ...result, job: await getJobSummary(deps, job.job_id) };
}

/** POST /api/task/{id}/cancel/: the one task; its job goes on with the others. */
export async function cancelTask(deps: Clients, taskId: string) {
  if (!(await dependency('redis', () => deps.redis.exists(deps.key('task', taskId))))) throw new NotFoundError(`task ${taskId} does not exist (or expired after TASK_TTL_S)`, { field: 'task_id' });
  const result = await cancelTaskKeys(deps, '', [deps.key('task', taskId)]);
  return { task_id: taskId, ...result };
}

/**
 * Times out the pending tasks of every job whose deadline has passed. Tasks being processed
 * are abandoned by their worker at the next filter boundary (it knows the deadline from the
 * message), or timed out when a redelivery is claimed. A job with tasks still processing is
 * looked at again a little later.
 * ARGV: prefix, ttl, now ISO, now ms, then the task hashes' keys. Returns the number timed out.
 */
const TIME_OUT = `${JOB_LUA}
local prefix, ttl, now_iso, now_ms = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4]
local n = 0
for i = 5, #ARGV do
  local h = redis.call('HMGET', ARGV[i], 'status', 'deadline_at', 'batch_id', 'task_id')
  if h[1] == 'pending' and h[2] and h[2] ~= '' and now_iso > h[2] then
    redis.call('HSET', ARGV[i], 'status', 'timed_out', 'finished_at', now_iso, 'explanation', 'The job deadline (' .. h[2] .. ') passed before the task ran')
    job_task_changed(prefix, ttl, now_iso, now_ms, h[3], h[4], 'pending', 'timed_out')
    n = n + 1
  end
end
return n
`;

/** How long a job past its deadline, with tasks still processing, waits before it is looked at again. */
const DEADLINE_RECHECK_MS = 5_000;

/** Runs from the sweeper (each worker, npm start, and the scheduled function on AWS). Returns the tasks timed out. */
export async function enforceDeadlines(deps: Clients, now = Date.now()): Promise<number> {
  const due = await dependency('redis', () => deps.redis.zrangebyscore(deadlinesKey(deps), '-inf', now, 'LIMIT', 0, 50));
  let timedOut = 0;
  for (const jobId of due) {
    const ids = await jobTaskIds(deps, jobId);
    const [prefix, ttl, iso, nowMs] = jobScriptArgs(deps);
    timedOut += Number(await dependency('redis', () => deps.redis.eval(TIME_OUT, 0, prefix, ttl, iso, nowMs, ...ids.map((id) => deps.key('task', id)))));
    // A job that ended left the set in its last task's script; one still running is looked at again.
    await dependency('redis', () => deps.redis.zadd(deadlinesKey(deps), 'XX', now + DEADLINE_RECHECK_MS, jobId));
  }
  return timedOut;
}

/** Removes a job that never got its messages (a refused submission leaves nothing behind). */
export async function deleteJob(deps: Clients, jobId: string): Promise<void> {
  await dependency('redis', () =>
    deps.redis
      .multi()
      .del(jobKey(deps, jobId), jobTasksKey(deps, jobId), jobEventsKey(deps, jobId), jobDeliveriesKey(deps, jobId))
      .zrem(jobIndexKey(deps), jobId)
      .zrem(deadlinesKey(deps), jobId)
      .zrem(webhookDueKey(deps), jobId)
      .exec(),
  );
}
