import { ValidationError } from '../lib/core/errors';
import { httpHandler, json, jsonBody } from '../lib/core/http';
import { listDeliveries, parseDeliveriesPage, parseJobId, redeliverFailed } from '../lib/jobs/webhooks';
import { withIdempotency } from '../lib/tasks/idempotency';
import { parseDistributedRequest, submitDistributed } from '../lib/tasks/submit';
import { listDeadLetters, redriveDeadLetters } from '../lib/tasks/dead-letters';
import { taskStatus } from '../lib/tasks/status';
import { listWorkerViews } from '../lib/worker/liveness';
import { workersStatus } from '../lib/worker/status';

export const submit = httpHandler(async (req, deps) => {
  const body = jsonBody(req);
  // Validated before the idempotency check hashes it: a body that is not a submission never reaches Redis.
  const request = parseDistributedRequest(body);
  const { status, response, replayed } = await withIdempotency(deps, req.headers['idempotency-key'], body, async () => ({
    status: 202,
    response: await submitDistributed(deps, request),
  }));
  return json(status, response, { location: response.status_url, ...(replayed ? { 'idempotent-replayed': 'true' } : {}) });
});

export const task = httpHandler(async (req, deps) => json(200, await taskStatus(deps, req.pathParams.task_id, listWorkerViews)));

export const workers = httpHandler(async (_req, deps) => json(200, await workersStatus(deps)));

export const deadLetters = httpHandler(async (req, deps) => json(200, await listDeadLetters(deps, req.query)));

export const redrive = httpHandler(async (req, deps) => json(200, await redriveDeadLetters(deps, jsonBody(req))));

/** GET /api/jobs/{job_id}/deliveries/ — every webhook delivery attempt for the job (docs/webhooks.md). */
export const jobDeliveries = httpHandler(async (req, deps) => {
  const jobId = parseJobId(req.pathParams.job_id);
  return json(200, await listDeliveries(deps, jobId, parseDeliveriesPage(req.query)));
});

/** POST /api/jobs/{job_id}/deliveries/redeliver/ — sends the job's failed deliveries again. */
export const redeliverJob = httpHandler(async (req, deps) => {
  const jobId = parseJobId(req.pathParams.job_id);
  if (Object.keys(jsonBody(req)).length > 0) throw new ValidationError('the redeliver request takes no body fields (send an empty body or {})', { field: 'body' });
  const result = await redeliverFailed(deps, jobId);
  return json(result.queued_seqs.length > 0 ? 202 : 200, result);
});
