/**
 * Lua shared by every Redis script that changes a task's status (lib/tasks/store.ts) or a
 * job's (lib/jobs/store.ts): the job's counts, its status and its event log change in the same
 * script as the task, so a read of the job always sees counts that sum to its total and an
 * event for every change. Key names are derived from the task's job id and the deployment's
 * prefix (ARGV), the way lib/core/clients.ts key() builds them: one Redis, not a cluster.
 *
 * Scripts prepend JOB_LUA and call:
 *   job_task_changed(prefix, ttl, now_iso, now_ms, job_id, task_id, old_status, new_status, extra)
 * after writing the task's new status (old_status false for a new task).
 */
export const TERMINAL_TASK_STATUSES = ['completed', 'failed', 'cancelled', 'timed_out'] as const;
export const TASK_STATUSES = ['pending', 'processing', ...TERMINAL_TASK_STATUSES] as const;
export const TERMINAL_JOB_STATUSES = ['completed', 'failed', 'partial', 'cancelled', 'timed_out'] as const;

export const JOB_LUA = `
local function job_key(prefix, job_id, suffix)
  local k = prefix .. ':job:' .. job_id
  if suffix then k = k .. ':' .. suffix end
  return k
end

local function task_terminal(s)
  return s == 'completed' or s == 'failed' or s == 'cancelled' or s == 'timed_out'
end

local function append_event(prefix, ttl, now_ms, job_id, event)
  local events = job_key(prefix, job_id, 'events')
  local seq = redis.call('LLEN', events) + 1
  event['seq'] = seq
  event['job_id'] = job_id
  redis.call('RPUSH', events, cjson.encode(event))
  redis.call('EXPIRE', events, ttl)
  if redis.call('HGET', job_key(prefix, job_id), 'notify_url') then
    local due_key = prefix .. ':webhooks:due'
    local due = redis.call('ZSCORE', due_key, job_id)
    if not due or tonumber(due) > tonumber(now_ms) then redis.call('ZADD', due_key, now_ms, job_id) end
  end
  return seq
end

-- The job's terminal status once every task is terminal: cancelled when a cancel was asked,
-- completed when all completed, partial when some did, timed_out when none did and some ran
-- out of time, failed otherwise.
local function job_outcome(job)
  local n = function(f) return tonumber(redis.call('HGET', job, f) or '0') end
  if redis.call('HGET', job, 'cancel_requested') == '1' and n('n_cancelled') > 0 then return 'cancelled' end
  local total, completed = n('total'), n('n_completed')
  if completed == total then return 'completed' end
  if completed > 0 then return 'partial' end
  if n('n_timed_out') > 0 then return 'timed_out' end
  return 'failed'
end

local function job_task_changed(prefix, ttl, now_iso, now_ms, job_id, task_id, old, new, extra)
  if not job_id or job_id == '' or old == new then return end
  local job = job_key(prefix, job_id)
  if redis.call('EXISTS', job) == 0 then return end
  if old then redis.call('HINCRBY', job, 'n_' .. old, -1) end
  redis.call('HINCRBY', job, 'n_' .. new, 1)
  local event = {type = 'task.' .. new, task_id = task_id, status = new, at = now_iso}
  if extra then for k, v in pairs(extra) do event[k] = v end end
  append_event(prefix, ttl, now_ms, job_id, event)
  local status = redis.call('HGET', job, 'status')
  local n = function(f) return tonumber(redis.call('HGET', job, f) or '0') end
  local finished = n('n_completed') + n('n_failed') + n('n_cancelled') + n('n_timed_out')
  if finished == n('total') then
    local outcome = job_outcome(job)
    if outcome ~= status then
      redis.call('HSET', job, 'status', outcome, 'finished_at', now_iso)
      redis.call('ZREM', prefix .. ':jobs:deadlines', job_id)
      append_event(prefix, ttl, now_ms, job_id, {type = 'job.' .. outcome, status = outcome, at = now_iso, counts = {
        total = n('total'), pending = n('n_pending'), processing = n('n_processing'), completed = n('n_completed'),
        failed = n('n_failed'), cancelled = n('n_cancelled'), timed_out = n('n_timed_out')}})
    end
  elseif (status == 'pending' and new ~= 'pending') or (status ~= 'pending' and status ~= 'running') then
    -- The first task to start (or a finished job's task sent back by a redrive) makes it running.
    redis.call('HSET', job, 'status', 'running', 'finished_at', '')
    append_event(prefix, ttl, now_ms, job_id, {type = 'job.running', status = 'running', at = now_iso})
  end
end
`;

/**
 * Records a new job with its tasks (already written, pending): the job hash with its counts,
 * the ordered task list, the job index (newest first, trimmed to JOB_INDEX_MAX and to the
 * retention), the deadline set, and the job.created event.
 * ARGV: prefix, ttl, now ISO, now ms, job id, total, deadline ISO or '', deadline ms or '',
 * notify_url or '', filters JSON, index max, then the task ids.
 */
export const CREATE_JOB = `${JOB_LUA}
local prefix, ttl, now_iso, now_ms, job_id = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local job = job_key(prefix, job_id)
local fields = {'job_id', job_id, 'status', 'pending', 'total', ARGV[6], 'n_pending', ARGV[6], 'created_at', now_iso, 'filters', ARGV[10]}
if ARGV[7] ~= '' then table.insert(fields, 'deadline_at'); table.insert(fields, ARGV[7]) end
if ARGV[9] ~= '' then table.insert(fields, 'notify_url'); table.insert(fields, ARGV[9]) end
redis.call('HSET', job, unpack(fields))
redis.call('EXPIRE', job, ttl)
local tasks = job_key(prefix, job_id, 'tasks')
for i = 12, #ARGV, 1000 do
  redis.call('RPUSH', tasks, unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
redis.call('EXPIRE', tasks, ttl)
local index = prefix .. ':jobs'
redis.call('ZADD', index, now_ms, job_id)
redis.call('ZREMRANGEBYSCORE', index, '-inf', tonumber(now_ms) - ttl * 1000)
redis.call('ZREMRANGEBYRANK', index, 0, -tonumber(ARGV[11]) - 1)
if ARGV[8] ~= '' then redis.call('ZADD', prefix .. ':jobs:deadlines', ARGV[8], job_id) end
append_event(prefix, ttl, now_ms, job_id, {type = 'job.created', status = 'pending', at = now_iso, total = tonumber(ARGV[6])})
return 1
`;
