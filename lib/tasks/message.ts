/**
 * The task message on the queue, read back by whoever takes it (a worker, a redrive). A
 * queue is an input like any other: the body is checked twice — that it is a task message
 * at all, then that its contents pass the same rules the API applied when it was submitted.
 */
import { z } from 'zod';
import { ValidationError } from '../core/errors';
import { parseFilterSteps } from '../filters/request';
import { validateImageName } from '../images/source';
import type { TaskMessage } from './store';
import { explain, parseField, parseWith, UUID } from '../core/validate';
import { OutputSchema, type OutputSpec } from '../filters/output';

const TASK_ID = UUID;
const EXAMPLE_ID = '3f2b8c1e-9d4a-4e7b-8a61-2c5d9e0f1a2b';

/** GET /api/task/{task_id}/status/ */
export const TaskIdPath = z.object({
  task_id: explain(z.string().regex(TASK_ID).meta({ description: 'a task id a submission returned', examples: [EXAMPLE_ID] }), ({ raw }) => ({
    message: `task id must be a UUID such as ${EXAMPLE_ID}; got ${JSON.stringify((typeof raw === 'string' ? raw : '').slice(0, 80))}`,
    field: 'task_id',
  })),
});

export function validateTaskId(raw: string | undefined): string {
  return parseWith(TaskIdPath, { task_id: raw }).task_id;
}

/** A body that is not a task message at all: nothing says which task it was, or what to do. */
export class UnreadableMessageError extends Error {}

/** The task id of a body, if it names one, even when the rest is unreadable. */
export function taskIdOf(body: string): string | undefined {
  try {
    const id = (JSON.parse(body) as { task_id?: unknown }).task_id;
    return typeof id === 'string' && TASK_ID.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** The body's shape: a task id, an image, a list of named steps, a queue time. */
export function readTaskMessage(body: string): TaskMessage {
  let m: TaskMessage;
  try {
    m = JSON.parse(body) as TaskMessage;
  } catch {
    throw new UnreadableMessageError('message body is not JSON');
  }
  if (typeof m?.task_id !== 'string' || !TASK_ID.test(m.task_id) || typeof m.image !== 'string' || !Array.isArray(m.steps) || typeof m.queued_at !== 'number') {
    throw new UnreadableMessageError('message body is not a task (task_id, image, steps, queued_at)');
  }
  for (const s of m.steps) {
    if (typeof s?.name !== 'string' || typeof s.params !== 'object' || s.params === null) throw new UnreadableMessageError('message has a malformed step');
  }
  return m;
}

/** An S3 ETag: a quoted hex digest, with "-N" for a multipart upload; some stores leave out the quotes or use other tokens. */
const ETAG = /^"?[A-Za-z0-9._~+/=-]{1,200}"?$/;

/** Whether a store's ETag can go into a message (the API leaves out any other: its tasks read the image as it is then). */
export function isMessageEtag(raw: unknown): raw is string {
  return typeof raw === 'string' && ETAG.test(raw);
}

function validateEtag(raw: unknown): void {
  if (raw === undefined) return;
  if (!isMessageEtag(raw)) {
    throw new ValidationError(`image_etag must be absent or an S3 ETag (1-200 letters, digits or ._~+/=-, optionally in double quotes); got ${JSON.stringify(String(raw).slice(0, 80))}`, { field: 'image_etag' });
  }
}

/**
 * The message's image name, filters and parameters through the API's own validation
 * (ValidationError naming the field and the allowed range). Returns the message with the
 * steps as the API would have built them.
 */
export function validateTaskMessage(msg: TaskMessage): TaskMessage {
  validateImageName(msg.image, 'image');
  validateEtag(msg.image_etag);
  // A request gives one filter_params entry per filter, so a repeated filter repeats its parameters.
  const params: Record<string, unknown> = Object.create(null);
  msg.steps.forEach((s, i) => {
    if (Object.hasOwn(params, s.name) && JSON.stringify(params[s.name]) !== JSON.stringify(s.params)) {
      throw new ValidationError(`steps[${i}]: ${s.name.slice(0, 60)} is repeated with other parameters; one filter has one filter_params entry`, { field: `filter_params.${s.name.slice(0, 60)}` });
    }
    params[s.name] = s.params;
  });
  return { ...msg, steps: parseFilterSteps(msg.steps.map((s) => s.name), params), ...(msg.output === undefined ? {} : { output: validateOutput(msg.output) }) };
}

/** A message's output through the submission's own rules (lib/filters/output.ts). */
function validateOutput(raw: unknown): OutputSpec {
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<OutputSpec>;
  if (typeof raw !== 'object' || raw === null) throw new ValidationError('output must be an object {format, quality, keepMetadata}', { field: 'output' });
  return parseField(OutputSchema, 'output', { format: o.format, quality: o.quality, keep_metadata: o.keepMetadata });
}
