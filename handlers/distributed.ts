import { httpHandler, json, jsonBody } from '../lib/http';
import { submitDistributed } from '../lib/tasks/submit';
import { listDeadLetters, redriveDeadLetters } from '../lib/tasks/dead-letters';
import { taskStatus, workersStatus } from '../lib/tasks/status';

export const submit = httpHandler(async (req, deps) => {
  const accepted = await submitDistributed(deps, jsonBody(req));
  return json(202, accepted, { location: accepted.status_url });
});

export const task = httpHandler(async (req, deps) => json(200, await taskStatus(deps, req.pathParams.task_id)));

export const workers = httpHandler(async (_req, deps) => json(200, await workersStatus(deps)));

export const deadLetters = httpHandler(async (req, deps) => json(200, await listDeadLetters(deps, req.query)));

export const redrive = httpHandler(async (req, deps) => json(200, await redriveDeadLetters(deps, jsonBody(req))));
