/**
 * The Jobs panel: the newest jobs (GET /api/jobs/?limit=10, on the dashboard's 2 s refresh),
 * each with its status, a progress bar of finished tasks coloured by outcome, the counts, and
 * a Cancel button (POST /api/jobs/{id}/cancel/) while the job is not finished.
 *
 * Live progress: an unfinished job gets an EventSource on its event stream
 * (GET /api/jobs/{id}/events/, served as long polls). A new EventSource starts at the job's
 * first event, so the page rebuilds the counts from the events alone: job.created gives the
 * total, every task.* event one task's new status, and the job's terminal event its final
 * counts. A stream is closed when its job finishes or leaves the list.
 *
 * Rows are updated in place (never rebuilt), so a Cancel button keeps focus and stays
 * clickable across refreshes.
 */
import { api, hasApiKey, type Json } from './api';
import { $, el } from './dom';

const LIST_LIMIT = 10;
/**
 * Streams open at once, at most: each one holds one of the browser's six HTTP/1.1 connections
 * to the API for up to 15 s per long poll, and the dashboard's own requests need the rest.
 * Unfinished jobs past this many follow the 2 s list refresh.
 */
const MAX_STREAMS = 3;
/** How often a polled job (see openLive) is read. */
const JOB_POLL_MS = 1000;
/** The events of one long-poll response arrive one after another: draw once they pause. */
const RENDER_DEBOUNCE_MS = 40;

const FINISHED_PARTS = ['completed', 'failed', 'cancelled', 'timed_out'] as const;
/** The bar's coloured parts, left to right: what has finished, then what is running. */
const BAR_PARTS = [...FINISHED_PARTS, 'processing'] as const;
const COUNT_NAMES = ['pending', 'processing', ...FINISHED_PARTS] as const;
const TERMINAL = new Set(['completed', 'partial', 'failed', 'cancelled', 'timed_out']);
/** Every event type the stream sends (an EventSource only hears the named types it listens to). */
const EVENT_TYPES = [
  'job.created',
  'job.running',
  'job.completed',
  'job.partial',
  'job.failed',
  'job.timed_out',
  'job.cancelled',
  'task.processing',
  'task.pending',
  'task.completed',
  'task.failed',
  'task.cancelled',
  'task.timed_out',
];

type CountName = (typeof COUNT_NAMES)[number];
type Counts = Record<CountName | 'total', number>;

interface JobSnapshot {
  job_id: string;
  status: string;
  counts: Counts;
  filters?: string[];
  created_at?: string;
  finished_at?: string | null;
}

/**
 * How a row stays current: its own event stream, polling GET /api/jobs/{id}/, the list
 * refresh only, or nothing more (finished).
 */
type Live = 'stream' | 'poll' | 'list' | 'none';

interface StreamState {
  source: EventSource;
  total: number;
  /** Each task's latest status, as its events said. */
  tasks: Map<string, string>;
  status?: string;
  finishedAt?: string;
  /** The terminal job event's counts. */
  final?: Counts;
  timer?: ReturnType<typeof setTimeout>;
}

interface Row {
  id: string;
  job: JobSnapshot;
  li: HTMLElement;
  badge: HTMLElement;
  bar: HTMLElement;
  parts: Record<string, HTMLElement>;
  counts: Record<string, HTMLElement>;
  cancel: HTMLButtonElement;
  note: HTMLElement;
  live: Live;
  stream?: StreamState;
  /** The stream closed without the job's last event (an error answer): don't open another. */
  streamFailed: boolean;
  /** When the newest applied request (list, poll or cancel) was sent, ms. */
  fetchedAt: number;
  polling: boolean;
  cancelling: boolean;
}

const rows = new Map<string, Row>();
let listFetchedAt = 0;

const short = (id: string) => id.slice(0, 8);
const finished = (c: Counts) => FINISHED_PARTS.reduce((n, p) => n + (c[p] ?? 0), 0);
const isTerminal = (status: string) => TERMINAL.has(status);

// ---------- rows ----------
function createRow(job: JobSnapshot): Row {
  const id = job.job_id;
  const li = el('li', { class: 'job', 'data-job-id': id });
  const head = el('div', { class: 'job-head' });
  const badge = el('span', { class: 'badge job-badge', 'data-job-status': '' });
  const cancel = el('button', { type: 'button', class: 'job-cancel', 'data-action': 'cancel', 'aria-label': `Cancel job ${short(id)}` }, 'Cancel') as HTMLButtonElement;
  cancel.addEventListener('click', () => void cancelJob(id));
  head.append(
    el('span', { class: 'job-id', title: id }, short(id)),
    badge,
    el('span', { class: 'job-filters' }, (job.filters ?? []).join(' → ')),
    el('span', { class: 'job-time' }, job.created_at ? new Date(job.created_at).toLocaleTimeString() : ''),
    cancel,
  );
  const bar = el('div', { class: 'progress', role: 'progressbar', 'aria-label': `Job ${short(id)}: tasks finished`, 'aria-valuemin': '0' });
  const parts: Record<string, HTMLElement> = {};
  for (const p of BAR_PARTS) bar.append((parts[p] = el('span', { class: `part ${p}`, 'data-part': p })));
  const countsLine = el('p', { class: 'job-counts', 'data-counts': '' });
  const counts: Record<string, HTMLElement> = {};
  countsLine.append((counts.total = el('span', { 'data-count': 'total' })), (counts.tasksWord = el('span', {}, ' tasks:')));
  for (const name of COUNT_NAMES) {
    countsLine.append(document.createTextNode(name === 'pending' ? ' ' : ' · '), (counts[name] = el('span', { 'data-count': name, class: `count-${name}` })), document.createTextNode(` ${name.replace('_', ' ')}`));
  }
  const note = el('p', { class: 'job-note', 'data-note': '' });
  li.append(head, bar, countsLine, note);
  const row: Row = { id, job, li, badge, bar, parts, counts, cancel, note, live: isTerminal(job.status) ? 'none' : 'list', streamFailed: false, fetchedAt: 0, polling: false, cancelling: false };
  render(row);
  return row;
}

function render(row: Row) {
  const { status, counts } = row.job;
  const done = finished(counts);
  row.li.dataset.status = status;
  row.li.dataset.live = row.live;
  row.badge.dataset.jobStatus = status;
  row.badge.textContent = status.replace('_', ' ');
  row.bar.setAttribute('aria-valuemax', String(counts.total));
  row.bar.setAttribute('aria-valuenow', String(done));
  row.bar.setAttribute('aria-valuetext', `${done} of ${counts.total} tasks finished`);
  for (const p of BAR_PARTS) row.parts[p].style.width = counts.total > 0 ? `${(100 * (counts[p] ?? 0)) / counts.total}%` : '0%';
  row.counts.total.textContent = String(counts.total);
  row.counts.tasksWord.textContent = counts.total === 1 ? ' task:' : ' tasks:';
  for (const name of COUNT_NAMES) row.counts[name].textContent = String(counts[name] ?? 0);
  row.cancel.hidden = isTerminal(status);
  row.cancel.disabled = row.cancelling;
  row.cancel.textContent = row.cancelling ? 'Cancelling…' : 'Cancel';
  if (!row.note.dataset.error) {
    row.note.textContent = {
      stream: 'live from the job’s event stream',
      poll: `read every ${JOB_POLL_MS / 1000} s${hasApiKey() ? ' (an event stream cannot carry the API key)' : ' (its event stream was refused)'}`,
      list: 'updated with the list',
      none: row.job.finished_at ? `finished ${new Date(row.job.finished_at).toLocaleTimeString()}` : '',
    }[row.live];
  }
}

/**
 * Shows a newer state of the job. Requests (the list, a poll, a cancel) are applied newest
 * sent first wins. While the job has a stream, the stream is a little behind the API (a
 * reconnect every long poll): a state with fewer finished tasks than shown is an older one
 * and is skipped, so the bar never steps back.
 */
function apply(row: Row, snap: JobSnapshot, from: 'stream' | { sentAt: number }) {
  if (from !== 'stream') {
    if (from.sentAt < row.fetchedAt) return;
    row.fetchedAt = from.sentAt;
  } else if (isTerminal(snap.status)) {
    // The job's last event: a request sent before it arrived must not show the job running again.
    row.fetchedAt = Date.now();
  }
  if ((from === 'stream' || row.live === 'stream') && !isTerminal(snap.status) && finished(snap.counts) < finished(row.job.counts)) return;
  const { status, counts, filters, created_at, finished_at } = snap;
  row.job = { ...row.job, status, counts, ...(filters ? { filters } : {}), ...(created_at ? { created_at } : {}), ...(finished_at !== undefined ? { finished_at } : {}) };
  if (isTerminal(snap.status)) {
    row.cancelling = false;
    closeLive(row);
  }
  render(row);
}

// ---------- live updates ----------
function closeLive(row: Row) {
  if (row.stream) {
    clearTimeout(row.stream.timer);
    row.stream.source.close();
    row.stream = undefined;
  }
  row.live = isTerminal(row.job.status) ? 'none' : 'list';
}

/** The counts the stream's events add up to. */
function streamSnapshot(row: Row, s: StreamState): JobSnapshot | undefined {
  if (s.status === undefined) return undefined;
  let counts: Counts;
  if (s.final) counts = s.final;
  else {
    counts = { total: s.total, pending: 0, processing: 0, completed: 0, failed: 0, cancelled: 0, timed_out: 0 };
    for (const status of s.tasks.values()) if (status in counts && status !== 'pending') counts[status as CountName]++;
    counts.pending = s.total - COUNT_NAMES.reduce((n, c) => (c === 'pending' ? n : n + counts[c]), 0);
  }
  return { job_id: row.id, status: s.status, counts, ...(s.finishedAt ? { finished_at: s.finishedAt } : {}) };
}

function flushStream(row: Row, s: StreamState) {
  clearTimeout(s.timer);
  s.timer = undefined;
  const snap = streamSnapshot(row, s);
  if (snap && row.stream === s) apply(row, snap, 'stream');
}

function openStream(row: Row) {
  const source = new EventSource(`/api/jobs/${row.id}/events/`);
  const s: StreamState = { source, total: row.job.counts.total, tasks: new Map() };
  const onEvent = (e: MessageEvent) => {
    let ev: Json;
    try {
      ev = JSON.parse(e.data);
    } catch {
      return;
    }
    if (ev.type === 'job.created') {
      s.total = ev.total;
      s.status = ev.status;
    } else if (ev.task_id) s.tasks.set(ev.task_id, ev.status);
    else if (typeof ev.type === 'string' && ev.type.startsWith('job.')) {
      s.status = ev.status;
      if (ev.counts) s.final = ev.counts;
      if (isTerminal(ev.status)) s.finishedAt = ev.at;
    }
    clearTimeout(s.timer);
    s.timer = setTimeout(() => flushStream(row, s), RENDER_DEBOUNCE_MS);
  };
  for (const type of EVENT_TYPES) source.addEventListener(type, onEvent as EventListener);
  source.addEventListener('error', () => {
    // CONNECTING: one long poll ended and the EventSource reconnects on its own (retry: 500).
    if (source.readyState !== EventSource.CLOSED) return;
    // CLOSED: a 204 after the job's last event, or an error answer.
    flushStream(row, s);
    if (row.stream !== s) return;
    row.streamFailed = true;
    closeLive(row);
    openLive(row);
    render(row);
  });
  row.stream = s;
  row.live = 'stream';
}

/** Gives an unfinished row a way to stay current, if it has none yet. */
function openLive(row: Row) {
  if (isTerminal(row.job.status) || row.live === 'stream' || row.live === 'poll') return;
  // An EventSource cannot send an Authorization header, so with an API key (or after a
  // stream was refused) the job is polled instead: GET /api/jobs/{id}/ every JOB_POLL_MS,
  // through api(), which sends the key. Putting the key in the URL would leak it into logs.
  if (hasApiKey() || row.streamFailed) row.live = 'poll';
  else if ([...rows.values()].filter((r) => r.stream).length < MAX_STREAMS) openStream(row);
  else row.live = 'list';
}

async function pollJobs() {
  await Promise.all(
    [...rows.values()]
      .filter((r) => r.live === 'poll' && !r.polling)
      .map(async (row) => {
        row.polling = true;
        const sentAt = Date.now();
        try {
          const { status, body } = await api(`/api/jobs/${row.id}/`);
          if (status === 200 && rows.get(row.id) === row) apply(row, body, { sentAt });
        } catch {
          // Unreachable for a moment: the next poll tries again, the list says so.
        } finally {
          row.polling = false;
        }
      }),
  );
}

// ---------- cancel ----------
async function cancelJob(id: string) {
  const row = rows.get(id);
  if (!row || row.cancelling) return;
  row.cancelling = true;
  delete row.note.dataset.error;
  render(row);
  const sentAt = Date.now();
  try {
    const { status, body } = await api(`/api/jobs/${id}/cancel/`, { method: 'POST' });
    if (status !== 200) throw new Error(body?.error?.message ?? `HTTP ${status}`);
    // Tasks still running stop at their next filter boundary: "Cancelling…" until the job ends.
    if (body.stopping === 0) row.cancelling = false;
    apply(row, body.job, { sentAt });
  } catch (e) {
    row.cancelling = false;
    row.note.dataset.error = 'true';
    row.note.textContent = `cancel failed: ${(e as Error).message}`;
  }
  render(row);
}

// ---------- the list ----------
/** Part of the dashboard's refresh: the newest jobs, in place. */
export async function refreshJobs() {
  const sentAt = Date.now();
  let status: number;
  let body: Json;
  try {
    ({ status, body } = await api(`/api/jobs/?limit=${LIST_LIMIT}`));
  } catch (e) {
    $('#jobs-now').textContent = `cannot read the jobs: ${(e as Error).message}`;
    return;
  }
  if (status !== 200) {
    $('#jobs-now').textContent = `cannot read the jobs: ${body?.error?.message ?? `HTTP ${status}`}`;
    return;
  }
  if (sentAt < listFetchedAt) return; // an older answer than the one shown
  listFetchedAt = sentAt;
  const jobs: JobSnapshot[] = body.jobs;
  const listed = new Set(jobs.map((j) => j.job_id));
  for (const [id, row] of rows) {
    if (listed.has(id)) continue;
    closeLive(row);
    row.li.remove();
    rows.delete(id);
  }
  const box = $('#jobs');
  jobs.forEach((job, i) => {
    let row = rows.get(job.job_id);
    if (!row) {
      rows.set(job.job_id, (row = createRow(job)));
      row.fetchedAt = sentAt;
    }
    else apply(row, job, { sentAt });
    // Moved only when out of place: moving a node would drop a focused button's focus.
    if (box.children[i] !== row.li) box.insertBefore(row.li, box.children[i] ?? null);
  });
  for (const job of jobs) {
    const row = rows.get(job.job_id)!;
    openLive(row);
    render(row);
  }
  $('#jobs-empty').hidden = jobs.length > 0;
  const running = jobs.filter((j) => !isTerminal(j.status)).length;
  const streams = [...rows.values()].filter((r) => r.live === 'stream').length;
  const polled = [...rows.values()].filter((r) => r.live === 'poll').length;
  $('#jobs-now').textContent = `newest ${jobs.length} · ${running} not finished · ${streams} on a live stream · ${polled} polled`;
}

export function setupJobs() {
  setInterval(() => void pollJobs(), JOB_POLL_MS);
}
