// 500 distributed submissions at once: every one accepted (202) — or, if the API ever
// sheds load, refused with 429 and Retry-After — and every accepted task tracked to a
// terminal state. LOAD_SUBMISSIONS sets the count.
import { postJson } from '../helpers/batch';
import { scenarioStack, fetchTaskStatus, fetchWorkersStatus } from '../helpers/workers';
import { sleep } from '../../lib/core/time';

const N = Number(process.env.LOAD_SUBMISSIONS ?? 500);
const scenario = scenarioStack('load', { DISPATCH_MODE: 'capability', HEARTBEAT_INTERVAL_S: '2', POLL_WAIT_S: '1' }, ['worker-1', 'worker-3']);

test(`${N} concurrent distributed submissions are all accepted and all reach a terminal state`, async () => {
  const t0 = performance.now();
  const answers = await Promise.all(
    Array.from({ length: N }, () => postJson(`${scenario.stack.url}/api/process-batch/distributed/`, { filters: ['resize'], filter_params: { resize: { width: 160, height: 120 } } })),
  );
  const submitMs = performance.now() - t0;
  const accepted = answers.filter((a) => a.status === 202);
  const shed = answers.filter((a) => a.status === 429);
  // A 429 is only acceptable with Retry-After; and no rate limiter is on by default, so
  // this stack (default settings) must accept every one of the N submissions.
  for (const a of shed) expect(Number(a.headers.get('retry-after'))).toBeGreaterThan(0);
  process.stdout.write(`[load] accepted ${accepted.length} of ${N} (${shed.length} answered 429)\n`);
  expect(answers.filter((a) => a.status !== 202 && a.status !== 429).map((a) => `${a.status} ${JSON.stringify(a.body).slice(0, 100)}`)).toEqual([]);
  expect(accepted.length).toBe(N);
  const ids = accepted.map((a) => a.body.task_id as string);
  expect(new Set(ids).size).toBe(accepted.length);

  const deadline = Date.now() + 240_000;
  while (Date.now() < deadline) {
    const t = (await fetchWorkersStatus(scenario.stack)).tasks;
    if (t.completed + t.failed >= ids.length) break;
    await sleep(500);
  }
  const totalMs = performance.now() - t0;
  const finished = await Promise.all(ids.map((id) => fetchTaskStatus(scenario.stack, id)));
  expect(finished.filter((t) => t.status !== 'completed' && t.status !== 'failed').length).toBe(0);
  const completed = finished.filter((t) => t.status === 'completed').length;
  expect(completed).toBe(ids.length);
  process.stdout.write(`[load] ${N} submissions in ${Math.round(submitMs)} ms: ${accepted.length} accepted, ${shed.length} shed; all ${completed} completed after ${Math.round(totalMs)} ms\n`);
}, 300_000);
