/**
 * What the job routes accept, as zod schemas: the handlers parse with them and the OpenAPI
 * document is generated from them (lib/api/routes.ts). Each failure names its field and range.
 */
import { z } from 'zod';
import { explain, UUID } from '../core/validate';
import { TASK_STATUSES, TERMINAL_JOB_STATUSES } from './lua';

const EXAMPLE_ID = '3f2b8c1e-9d4a-4e7b-8a61-2c5d9e0f1a2b';
export const JOB_STATUSES = ['pending', 'running', ...TERMINAL_JOB_STATUSES] as const;
export const JOB_LIST_MAX = 100;
export const JOB_TASKS_MAX = 1000;
export const EVENTS_PAGE_MAX = 500;

export const JobIdPath = z.object({
  job_id: explain(z.string().regex(UUID).meta({ description: 'a job id a submission returned (job_id, also batch_id)', examples: [EXAMPLE_ID] }), ({ raw }) => ({
    message: `job id must be a UUID such as ${EXAMPLE_ID}; got ${JSON.stringify((typeof raw === 'string' ? raw : '').slice(0, 80))}`,
    field: 'job_id',
  })),
});

const quoted = (raw: unknown) => JSON.stringify(String(raw ?? '').slice(0, 40));

/** An integer query parameter from 1 to max. */
function limit(def: number, max: number) {
  return explain(
    z
      .string()
      .regex(/^\d+$/)
      .refine((v) => Number(v) >= 1 && Number(v) <= max)
      .transform(Number)
      .optional()
      .transform((v) => v ?? def)
      .meta({ description: `at most this many (1 to ${max}, default ${def})` }),
    ({ raw }) => ({ message: `limit must be an integer from 1 to ${max}; got ${quoted(raw)}`, details: { min: 1, max } }),
  );
}

function status<T extends readonly [string, ...string[]]>(allowed: T) {
  return explain(
    z
      .union([z.enum(allowed), z.literal('')])
      .optional()
      .transform((v) => (v ? v : undefined))
      .meta({ description: `only these: ${allowed.join(', ')}` }),
    ({ raw }) => ({ message: `status must be one of ${allowed.join(', ')}; got ${quoted(raw)}`, details: { allowed } }),
  );
}

function cursor() {
  return explain(z.string().max(200).optional().meta({ description: 'next_cursor of the previous page' }), () => ({ message: 'cursor must be the next_cursor of a previous page' }));
}

export const JobListQuery = z.object({ status: status(JOB_STATUSES), limit: limit(20, JOB_LIST_MAX), cursor: cursor() });
export const JobTasksQuery = z.object({ status: status(TASK_STATUSES), limit: limit(100, JOB_TASKS_MAX), cursor: cursor() });

/** An event seq to resume after (0: from the start). */
export function seqSchema(field: string) {
  return explain(
    z
      .string()
      .regex(/^\d{1,9}$/)
      .optional()
      .transform((v) => (v ? Number(v) : 0))
      .meta({ description: 'the last seq already read (0 or absent: from the first event)' }),
    ({ raw }) => ({ message: `${field} must be an event seq, an integer from 0 to 999999999; got ${quoted(raw)}`, field }),
  );
}

export const JobEventsQuery = z.object({ after: seqSchema('after'), limit: limit(100, EVENTS_PAGE_MAX) });
