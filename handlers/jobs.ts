import { httpHandler, json } from '../lib/core/http';
import { validateTaskId } from '../lib/tasks/message';
import { cancelJob, cancelTask, jobView, listJobs, listJobTasks } from '../lib/jobs/store';
import { jobEventsPage, jobEventStream } from '../lib/jobs/stream';

export const list = httpHandler(async (req, deps) => json(200, await listJobs(deps, req.query)));

export const view = httpHandler(async (req, deps) => json(200, await jobView(deps, req.pathParams.job_id)));

export const tasks = httpHandler(async (req, deps) => json(200, await listJobTasks(deps, req.pathParams.job_id, req.query)));

export const cancel = httpHandler(async (req, deps) => json(200, await cancelJob(deps, req.pathParams.job_id)));

export const cancelOneTask = httpHandler(async (req, deps) => json(200, await cancelTask(deps, validateTaskId(req.pathParams.task_id))));

/** JSON page by default; Server-Sent Events (long polls) with Accept: text/event-stream. */
export const events = httpHandler(async (req, deps) => {
  if (!(req.headers.accept ?? '').includes('text/event-stream')) return json(200, await jobEventsPage(deps, req.pathParams.job_id, req.query));
  const text = await jobEventStream(deps, req.pathParams.job_id, req.headers['last-event-id'] ?? req.query.after);
  // 204 ends an EventSource; the gateway would otherwise label the empty answer application/json.
  if (text === undefined) return { statusCode: 204, headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' }, body: '' };
  return { statusCode: 200, headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' }, body: text };
});
