// One ordered event log per job, read as JSON pages and as Server-Sent Events: seq strictly
// increasing, every state change there once, and an SSE stream resumed with Last-Event-ID
// replays nothing twice and misses nothing, ending after the terminal job event.
import { postJson } from '../helpers/batch';
import { getJson } from '../helpers/shared-stack';
import { scenarioStack } from '../helpers/workers';

const scenario = scenarioStack('job-events', { POLL_WAIT_S: '1' }, ['worker-3']);

interface Frame {
  id: number;
  event: string;
  data: any;
}

/** One SSE response, parsed as an EventSource would: frames separated by blank lines, comments skipped. */
function parseSse(text: string): { retry?: number; frames: Frame[] } {
  const out: { retry?: number; frames: Frame[] } = { frames: [] };
  for (const block of text.split('\n\n')) {
    const f: Partial<Frame> = {};
    for (const line of block.split('\n')) {
      if (line.startsWith(':') || line === '') continue;
      const [k, ...rest] = line.split(': ');
      const v = rest.join(': ');
      if (k === 'retry') out.retry = Number(v);
      if (k === 'id') f.id = Number(v);
      if (k === 'event') f.event = v;
      if (k === 'data') f.data = JSON.parse(v);
    }
    if (f.id !== undefined) out.frames.push(f as Frame);
  }
  return out;
}

test('the SSE stream, resumed with Last-Event-ID after each response, carries the whole log once, in order', async () => {
  const url = scenario.stack.url;
  const res = await postJson(`${url}/api/process-batch/distributed/`, { filters: ['blur'], images: Array.from({ length: 6 }, () => 'misurina-sunset.jpg') });
  const { job_id, task_ids } = res.body;
  const frames: Frame[] = [];
  let lastId: number | undefined;
  let ended = false;
  for (let i = 0; i < 200 && !ended; i++) {
    const r = await fetch(`${url}/api/jobs/${job_id}/events/`, { headers: { accept: 'text/event-stream', ...(lastId !== undefined ? { 'last-event-id': String(lastId) } : {}) } });
    if (r.status === 204) {
      ended = true;
      break;
    }
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const parsed = parseSse(await r.text());
    expect(parsed.retry).toBeGreaterThan(0);
    for (const f of parsed.frames) {
      expect(f.data.seq).toBe(f.id);
      expect(f.data.type).toBe(f.event);
      frames.push(f);
    }
    if (parsed.frames.length) lastId = parsed.frames.at(-1)!.id;
  }
  expect(ended).toBe(true);
  // Nothing twice, nothing missed: seq runs 1, 2, 3, ... with no gap.
  expect(frames.map((f) => f.id)).toEqual(frames.map((_, i) => i + 1));
  expect(frames[0].data).toMatchObject({ type: 'job.created', job_id, status: 'pending', total: 6 });
  expect(frames.at(-1)!.data).toMatchObject({ type: 'job.completed', status: 'completed', counts: { total: 6, completed: 6 } });
  expect(frames.filter((f) => f.event === 'job.running')).toHaveLength(1);
  for (const id of task_ids) {
    expect(frames.filter((f) => f.data.task_id === id).map((f) => f.event)).toEqual(['task.processing', 'task.completed']);
  }
  // The JSON page is the same log.
  const page = await getJson(`${url}/api/jobs/${job_id}/events/?after=0&limit=500`);
  expect(page.body.events).toEqual(frames.map((f) => f.data));
  expect(page.body).toMatchObject({ status: 'completed', ended: true, next_after: frames.length });
  const tail = await getJson(`${url}/api/jobs/${job_id}/events/?after=${frames.length - 2}`);
  expect(tail.body.events.map((e: any) => e.seq)).toEqual([frames.length - 1, frames.length]);
  // Resuming mid-log replays exactly what came after.
  const resumed = parseSse(await (await fetch(`${url}/api/jobs/${job_id}/events/`, { headers: { accept: 'text/event-stream', 'last-event-id': '3' } })).text());
  expect(resumed.frames.map((f) => f.id)).toEqual(frames.slice(3).map((f) => f.id));
}, 120_000);

test('bad event-log parameters are 400s naming the field', async () => {
  const url = scenario.stack.url;
  const { job_id } = (await postJson(`${url}/api/process-batch/distributed/`, { filters: ['blur'] })).body;
  for (const [q, field] of [['after=-1', 'after'], ['after=abc', 'after'], ['limit=0', 'limit'], ['limit=501', 'limit']]) {
    const r = await getJson(`${url}/api/jobs/${job_id}/events/?${q}`);
    expect({ q, status: r.status, field: r.body.error?.field }).toEqual({ q, status: 400, field });
  }
  const sse = await fetch(`${url}/api/jobs/${job_id}/events/`, { headers: { accept: 'text/event-stream', 'last-event-id': 'x1' } });
  expect(sse.status).toBe(400);
  expect((await sse.json()).error.field).toBe('Last-Event-ID');
});
