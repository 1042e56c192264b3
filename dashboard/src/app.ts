/**
 * The dashboard: one aggregated request (/api/dashboard/) every 2 s, rendered into worker
 * cards, live charts (uPlot, bundled — no CDN), a recent-tasks table with details, a jobs
 * panel with live progress (jobs.ts), a job form that shows the API's validation messages
 * inline, and a compare-all runner.
 */
import uPlot from 'uplot';
import { api, keyDeclined, type Json } from './api';
import { $, el } from './dom';
import { refreshJobs, setupJobs } from './jobs';

const POLL_MS = 2000;
const QUEUE_HISTORY = 150; // 5 minutes at one sample per 2 s
const QUEUE_WINDOW_S = (QUEUE_HISTORY * POLL_MS) / 1000;

// ---------- charts ----------
function chart(target: HTMLElement, series: uPlot.Series[], opts: Partial<uPlot.Options> = {}): uPlot {
  const width = Math.max(260, target.clientWidth || 360);
  return new uPlot({ width, height: 180, series: [{}, ...series], axes: [{}, { size: 50 }], legend: { show: true }, ...opts } as uPlot.Options, [[], ...series.map(() => [])] as uPlot.AlignedData, target);
}

let queueChart: uPlot;
let outcomesChart: uPlot;
let timesChart: uPlot;
const queueData: number[][] = [[], [], [], []];

function setupCharts() {
  queueChart = chart(
    $('#queue-chart'),
    [
      { label: 'visible', stroke: '#1d4ed8', width: 2 },
      { label: 'in flight', stroke: '#8a5a00', width: 2 },
      { label: 'dead letter', stroke: '#b3261e', width: 2 },
    ],
    // Always the last 5 minutes up to the newest sample: fitted to the data, a few samples
    // 2 s apart drew an axis of milliseconds (:31.000 ... :31.150).
    { scales: { x: { time: true, range: (_u, _min, max) => [max - QUEUE_WINDOW_S, max] } } },
  );
  outcomesChart = chart($('#outcomes-chart'), [
    { label: 'completed', stroke: '#0a7d32', fill: 'rgba(10,125,50,.15)', width: 2 },
    { label: 'failed', stroke: '#b3261e', fill: 'rgba(179,38,30,.15)', width: 2 },
  ]);
  timesChart = chart($('#times-chart'), [
    { label: 'task ms', stroke: '#1d4ed8', width: 0, points: { show: true, size: 5 } },
    { label: 'p50', stroke: '#0a7d32', width: 1.5 },
    { label: 'p95', stroke: '#b3261e', width: 1.5, dash: [4, 4] },
  ]);
  window.addEventListener('resize', () => {
    for (const [c, sel] of [[queueChart, '#queue-chart'], [outcomesChart, '#outcomes-chart'], [timesChart, '#times-chart']] as const) {
      c.setSize({ width: Math.max(260, $(sel).clientWidth), height: 180 });
    }
  });
}

// ---------- workers ----------
let lastSnapshotAt = 0;
let lastWorkers: Json[] = [];

function renderWorkers(workers: Json[]) {
  lastWorkers = workers;
  const box = $('#workers');
  if (workers.length === 0) {
    box.textContent = 'No worker has registered yet. Start one with: npm run worker -- worker-1';
    return;
  }
  box.replaceChildren(
    ...workers.map((w) => {
      const card = el('article', { class: `worker ${w.alive ? 'alive' : w.status}`, 'data-worker': w.id, 'data-alive': String(w.alive) });
      const h = el('h3');
      h.append(el('span', {}, w.id), el('span', { class: `badge ${w.status}`, 'data-status': w.status }, w.alive ? w.status : w.status === 'stopped' ? 'stopped' : 'offline'));
      const dl = el('dl');
      const row = (k: string, v: string, attrs: Record<string, string> = {}) => dl.append(el('dt', {}, k), el('dd', attrs, v));
      row('capabilities', w.capabilities.length === 5 ? 'all' : w.capabilities.join(', '));
      // On Lambda (event-source-mapping liveness) the mapping decides liveness; the last beat is the last invocation.
      if (w.mapping_state !== undefined) {
        row('SQS mapping', w.mapping_state);
        row('last invocation', w.last_invocation ? new Date(w.last_invocation).toLocaleTimeString() : 'never');
      } else row('heartbeat', w.heartbeat_age_s === null ? '—' : `${w.heartbeat_age_s.toFixed(1)} s ago`, { 'data-heartbeat': String(w.heartbeat_age_s ?? '') });
      row('current task', w.current_task ? w.current_task.slice(0, 8) : '—');
      row('processed / failed', `${w.processed} / ${w.failed}`);
      row('mean ms', w.mean_processing_ms === null ? '—' : String(w.mean_processing_ms));
      card.append(h, dl);
      return card;
    }),
  );
}

/** Heartbeat ages keep ticking between polls. */
function tickHeartbeats() {
  const extra = (Date.now() - lastSnapshotAt) / 1000;
  for (const w of lastWorkers) {
    const dd = document.querySelector(`[data-worker="${CSS.escape(w.id)}"] [data-heartbeat]`);
    if (dd && w.heartbeat_age_s !== null) dd.textContent = `${(w.heartbeat_age_s + extra).toFixed(1)} s ago`;
  }
}

// ---------- tasks ----------
function renderTasks(tasks: Json[]) {
  const body = $('#tasks tbody');
  body.replaceChildren(
    ...tasks.map((t) => {
      const tr = el('tr', { tabindex: '0', 'data-task-id': t.task_id, 'data-status': t.status });
      const cells = [
        t.task_id.slice(0, 8),
        t.status + (t.failure_type ? ` (${t.failure_type})` : ''),
        t.filters.join(' → '),
        t.worker_id ?? '—',
        String(t.attempts),
        t.queue_wait_ms === null ? '—' : String(t.queue_wait_ms),
        t.processing_ms === null ? '—' : String(t.processing_ms),
        t.error ?? '',
      ];
      cells.forEach((c, i) => tr.append(el('td', i === 1 ? { class: `status-${t.status}` } : i === 7 ? { class: 'error-cell' } : {}, c)));
      const open = () => void showTask(t.task_id);
      tr.addEventListener('click', open);
      tr.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          open();
        }
      });
      return tr;
    }),
  );
}

async function showTask(id: string) {
  const { body } = await api(`/api/task/${id}/status/`);
  $('#task-detail').hidden = false;
  $('#detail-id').textContent = id;
  $('#detail-json').textContent = JSON.stringify(body, null, 2);
  const img = $<HTMLImageElement>('#detail-thumb');
  if (body.result?.url) {
    img.src = body.result.url;
    img.hidden = false;
  } else {
    img.removeAttribute('src');
    img.hidden = true;
  }
}

// ---------- snapshot ----------
/** The dashboard's refresh: the aggregated snapshot and the jobs list, side by side. */
async function tick() {
  await Promise.all([refreshSnapshot(), refreshJobs()]);
}

async function refreshSnapshot() {
  try {
    const { status, body: s } = await api('/api/dashboard/');
    if (status !== 200) throw new Error(s?.error?.message ?? `HTTP ${status}`);
    lastSnapshotAt = Date.now();
    $('#live').textContent = `live · updated ${new Date().toLocaleTimeString()} · ${s.summary.alive}/${s.summary.total} workers alive · dispatch ${s.dispatch}`;
    renderWorkers(s.workers);

    const q = s.queue;
    $('#queue-now').textContent = `${q.name}: ${q.visible} visible · ${q.in_flight} in flight · ${q.dead_letter} dead letter`;
    const now = s.time;
    for (const [i, v] of [now, q.visible, q.in_flight, q.dead_letter].entries()) queueData[i].push(v);
    if (queueData[0].length > QUEUE_HISTORY) for (const a of queueData) a.shift();
    queueChart.setData(queueData as uPlot.AlignedData);
    // The window the axis shows, for people reading the page source and for the browser test.
    const x = queueChart.scales.x;
    if (x.min !== undefined && x.max !== undefined) $('#queue-chart').dataset.windowS = String(Math.round(x.max - x.min));

    const tot = s.tasks;
    $('#outcomes-now').textContent = `${tot.completed} completed · ${tot.failed} failed (job ${tot.failed_by_type.job_failure}, worker ${tot.failed_by_type.worker_failure}) · success rate ${tot.success_rate === null ? '—' : `${Math.round(tot.success_rate * 1000) / 10}%`}`;
    const pts = s.timeline.points;
    outcomesChart.setData([pts.map((p: Json) => p.t), pts.map((p: Json) => p.completed), pts.map((p: Json) => p.failed)]);
    $('#failure-reasons').replaceChildren(...Object.entries(s.failures_by_reason).map(([r, n]) => el('li', { 'data-reason': r }, `${r}: ${n}`)));

    const p = s.processing;
    $('#times-now').textContent = p.p50_ms === null ? 'no completed task yet' : `p50 ${p.p50_ms} ms · p95 ${p.p95_ms} ms (last ${p.samples.length} completed)`;
    // One sample gives uPlot a zero-width time range (and year-long ticks): frame it by ±30 s.
    const framed: { t: number; ms: number | null }[] = p.samples.length === 1 ? [{ t: p.samples[0].t - 30, ms: null }, p.samples[0], { t: p.samples[0].t + 30, ms: null }] : p.samples;
    timesChart.setData([framed.map((x) => x.t), framed.map((x) => x.ms), framed.map(() => p.p50_ms), framed.map(() => p.p95_ms)] as uPlot.AlignedData);
    $('#per-filter tbody').replaceChildren(...Object.entries(p.per_filter_mean_ms).map(([f, ms]) => {
      const tr = el('tr');
      tr.append(el('td', {}, f), el('td', {}, String(ms)));
      return tr;
    }));

    renderTasks(s.recent_tasks);
  } catch (e) {
    $('#live').textContent = keyDeclined()
      ? 'this API needs a key; reload the page to enter one'
      : `cannot reach the API: ${(e as Error).message}; retrying`;
  }
}

// ---------- the job form ----------
let filterDefs: Json[] = [];

async function setupForm() {
  const [{ body: info }, { body: filters }] = await Promise.all([api('/api/image/info/'), api('/api/filters/')]);
  filterDefs = filters.filters;
  $('#image-choices').replaceChildren(
    ...info.available_images.map((img: Json, i: number) => {
      const label = el('label', { class: 'filter-row' });
      const box = el('input', { type: 'checkbox', name: 'image', value: img.name, ...(i === 0 || img.name === 'sample_4k.jpg' ? { checked: '' } : {}) });
      label.append(box, document.createTextNode(` ${img.name}`));
      return label;
    }),
  );
  $('#filter-choices').replaceChildren(
    ...filterDefs.map((f) => {
      const row = el('div', { class: 'filter-row', 'data-filter': f.name });
      const label = el('label');
      label.append(el('input', { type: 'checkbox', name: 'filter', value: f.name, ...(f.name === 'resize' ? { checked: '' } : {}) }), document.createTextNode(` ${f.name} (${f.library})`));
      row.append(label);
      for (const [param, spec] of Object.entries<Json>(f.params)) {
        const id = `p-${f.name}-${param}`;
        const pl = el('label', { class: 'param', for: id }, param);
        let input: HTMLElement;
        if (spec.type === 'string') {
          input = el('select', { id, 'data-param': param });
          for (const v of spec.values) input.append(el('option', v === spec.default ? { value: v, selected: '' } : { value: v }, v));
        } else if (spec.type === 'boolean') {
          input = el('input', { id, type: 'checkbox', 'data-param': param, ...(spec.default ? { checked: '' } : {}) });
        } else {
          input = el('input', { id, type: 'number', step: spec.type === 'integer' ? '1' : 'any', placeholder: String(spec.default), 'data-param': param, title: `${spec.min}..${spec.max}` });
        }
        row.append(pl, input);
      }
      return row;
    }),
  );
}

function readForm() {
  const images = [...document.querySelectorAll<HTMLInputElement>('input[name=image]:checked')].map((i) => i.value);
  const filters = [...document.querySelectorAll<HTMLInputElement>('input[name=filter]:checked')].map((i) => i.value);
  const filter_params: Record<string, Record<string, unknown>> = {};
  for (const f of filters) {
    const row = document.querySelector(`[data-filter="${f}"]`)!;
    for (const input of row.querySelectorAll<HTMLInputElement>('[data-param]')) {
      const p = input.dataset.param!;
      let v: unknown;
      if (input.type === 'checkbox') v = input.checked;
      else if (input.type === 'number') v = input.value === '' ? undefined : Number(input.value);
      else v = input.value;
      if (v !== undefined) (filter_params[f] ??= {})[p] = v;
    }
  }
  return { images, filters, filter_params };
}

function showError(error: Json) {
  document.querySelectorAll('[aria-invalid=true]').forEach((n) => n.removeAttribute('aria-invalid'));
  $('#submit-error').textContent = error ? `${error.field ? `${error.field}: ` : ''}${error.message}` : '';
  const m = /^filter_params\.(\w+)\.(\w+)$/.exec(error?.field ?? '');
  if (m) document.getElementById(`p-${m[1]}-${m[2]}`)?.setAttribute('aria-invalid', 'true');
}

/** POSTs the form's images, filters and parameters as an API request body. */
function postForm(path: string) {
  const { images, filters, filter_params } = readForm();
  return api(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ filters, filter_params, ...(images.length ? { images } : {}) }),
  });
}

async function submitJob(e: Event) {
  e.preventDefault();
  const button = $<HTMLButtonElement>('#submit-button');
  button.disabled = true;
  try {
    const { status, body } = await postForm('/api/process-batch/distributed/');
    if (status !== 202) {
      showError(body.error);
      $('#submit-result').textContent = '';
      return;
    }
    showError(null);
    $('#submit-result').textContent = `submitted ${body.task_ids.length} task(s): ${body.task_ids.map((t: string) => t.slice(0, 8)).join(', ')}`;
    $('#submit-result').dataset.taskIds = body.task_ids.join(',');
    $('#submit-result').dataset.jobId = body.job_id;
    await tick();
  } finally {
    button.disabled = false;
  }
}

async function runCompare() {
  const button = $<HTMLButtonElement>('#compare-button');
  button.disabled = true;
  $('#compare-status').textContent = 'running sequential, threading and multiprocessing…';
  try {
    const { status, body } = await postForm('/api/process-batch/compare-all/');
    if (status !== 200) {
      $('#compare-status').textContent = `refused: ${body.error?.field ? `${body.error.field}: ` : ''}${body.error?.message}`;
      return;
    }
    const max = Math.max(...Object.values<Json>(body.strategies).map((s) => s.wall_ms));
    $('#compare-bars').replaceChildren(
      ...Object.entries<Json>(body.strategies).map(([name, s]) => {
        const row = el('div', { class: `bar${name === body.winner ? ' winner' : ''}`, 'data-strategy': name });
        const track = el('span');
        const fill = el('span', { class: 'fill' });
        fill.style.width = `${Math.max(2, (s.wall_ms / max) * 100)}%`;
        track.append(fill);
        row.append(el('span', {}, name), track, el('span', {}, `${Math.round(s.wall_ms)} ms · ${body.speedups[name]}x`));
        return row;
      }),
    );
    $('#compare-status').textContent = `${body.images} image(s), ${body.workload}`;
    $('#compare-verdict').textContent = body.verdict;
  } finally {
    button.disabled = false;
  }
}

async function main() {
  setupCharts();
  setupJobs();
  $('#submit-form').addEventListener('submit', (e) => void submitJob(e));
  $('#compare-button').addEventListener('click', () => void runCompare());
  await setupForm().catch((e) => showError({ message: `could not load images/filters: ${(e as Error).message}` }));
  await tick();
  setInterval(() => void tick(), POLL_MS);
  setInterval(tickHeartbeats, 500);
}

void main();
