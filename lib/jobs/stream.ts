/**
 * GET /api/jobs/{id}/events/: the job's event log as a JSON page (?after=<seq>), or with
 * `Accept: text/event-stream` as Server-Sent Events (`id:` = seq, so an EventSource resumes
 * with Last-Event-ID).
 *
 * API Gateway HTTP APIs and serverless-offline buffer a Lambda's response, so the stream is
 * served as long polls: each response waits until there are events after the resume point
 * (or SSE_WAIT_MS passes, with a heartbeat comment), sends them, and tells the client to
 * reconnect (`retry:`); once the terminal job event has been sent the next request answers
 * 204, which ends an EventSource. A client sees one ordered stream with nothing twice and
 * nothing missed: every response starts strictly after the seq it was asked to resume from.
 */
import type { Clients } from '../core/clients';
import { z } from 'zod';
import { parseWith } from '../core/validate';
import { EVENTS_PAGE_MAX, JobEventsQuery, seqSchema } from './schemas';
import { sleep } from '../core/time';
import { isTerminalJobEvent, readJobEvents, type JobEvent } from './events';
import { getJobSummary } from './store';

/** Longest one stream response waits for a new event (under the API's 29 s function timeout). */
export const SSE_WAIT_MS = 15_000;
const SSE_POLL_MS = 200;
/** What the client waits before it reconnects for the next events. */
const SSE_RETRY_MS = 500;

/** The JSON page: events after `after`, oldest first, and where to go on from. */
export async function jobEventsPage(deps: Clients, rawId: string | undefined, query: Record<string, string | undefined>) {
  const job = await getJobSummary(deps, rawId);
  const { after, limit } = parseWith(JobEventsQuery, query);
  const events = await readJobEvents(deps, job.job_id, after, limit);
  const last = events.at(-1)?.seq ?? after;
  return { job_id: job.job_id, status: job.status, events, next_after: last, ended: events.some(isTerminalJobEvent) || (events.length === 0 && job.status !== 'pending' && job.status !== 'running') };
}

function sseFrame(e: JobEvent): string {
  return `id: ${e.seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;
}

/** One long-poll response of the SSE stream: the text to send, or undefined (204) once the log has ended before the resume point. */
export async function jobEventStream(deps: Clients, rawId: string | undefined, resumeFrom: string | undefined, waitMs = SSE_WAIT_MS): Promise<string | undefined> {
  const job = await getJobSummary(deps, rawId);
  const after = parseWith(z.object({ 'Last-Event-ID': seqSchema('Last-Event-ID') }), { 'Last-Event-ID': resumeFrom })['Last-Event-ID'];
  // The resume point is the job's terminal event: nothing follows it, the stream is over.
  if (after > 0 && (await readJobEvents(deps, job.job_id, after - 1, 1)).some(isTerminalJobEvent)) return undefined;
  const deadline = Date.now() + waitMs;
  let events = await readJobEvents(deps, job.job_id, after, EVENTS_PAGE_MAX);
  while (events.length === 0 && Date.now() < deadline) {
    await sleep(SSE_POLL_MS);
    events = await readJobEvents(deps, job.job_id, after, EVENTS_PAGE_MAX);
  }
  return `retry: ${SSE_RETRY_MS}\n: ${events.length ? `${events.length} event(s)` : 'heartbeat'}\n\n${events.map(sseFrame).join('')}`;
}
