// 500 distributed submissions at once: every one accepted (202) or, when the API sheds load,
// refused with 429/503 and Retry-After (then resubmitted as a client would); every accepted
// task tracked to completion, its status read by 500 clients at once the same way (the API is
// one process: a burst can delay a Redis reply past DEPENDENCY_TIMEOUT_MS, and the API then
// sheds with 503 + Retry-After rather than wait). LOAD_SUBMISSIONS sets the count.
import { postJson } from '../helpers/batch';
import { getJson } from '../helpers/shared-stack';
import { scenarioStack, fetchWorkersStatus } from '../helpers/workers';
import { sleep } from '../../lib/core/time';

const N = Number(process.env.LOAD_SUBMISSIONS ?? 500);
const scenario = scenarioStack('load', { DISPATCH_MODE: 'capability', HEARTBEAT_INTERVAL_S: '2', POLL_WAIT_S: '1' }, ['worker-1', 'worker-3']);

/** Shed answers must say when to come back: 429 (rate limit) or 503 (overload, a dependency timing out). */
function isShed(a: { status: number; headers: Headers }): boolean {
  return (a.status === 429 || a.status === 503) && Number(a.headers.get('retry-after')) > 0;
}

type Answer = Awaited<ReturnType<typeof getJson>>;

/** What a client honouring Retry-After ends with: asks again after each shed answer, up to 8 times. */
async function untilServed(first: Answer, ask: () => Promise<Answer>, served: number): Promise<Answer> {
  let a = first;
  for (let attempt = 0; a.status !== served; attempt++) {
    expect(attempt).toBeLessThan(8);
    expect({ status: a.status, shed: isShed(a), body: a.body }).toMatchObject({ shed: true });
    await sleep(Number(a.headers.get('retry-after')) * 1000 + Math.random() * 1000);
    a = await ask();
  }
  return a;
}

test(`${N} concurrent distributed submissions are each accepted or told when to retry, and all complete`, async () => {
  const t0 = performance.now();
  const submit = () => postJson(`${scenario.stack.url}/api/process-batch/distributed/`, { filters: ['resize'], filter_params: { resize: { width: 160, height: 120 } } });
  const answers = await Promise.all(Array.from({ length: N }, submit));
  const submitMs = performance.now() - t0;
  // Nothing else is acceptable: no 500, no 503 without Retry-After, no dropped connection.
  expect(answers.filter((a) => a.status !== 202 && !isShed(a)).map((a) => `${a.status} ${JSON.stringify(a.body).slice(0, 100)}`)).toEqual([]);
  const accepted = answers.filter((a) => a.status === 202);
  const shed = answers.filter(isShed);
  process.stdout.write(`[load] accepted ${accepted.length} of ${N} at once (${shed.length} told to retry: ${[...new Set(shed.map((a) => a.status))].join(', ') || 'none'})\n`);
  // Clients that honour Retry-After (each on its own, with a little jitter) all get in.
  const retried = await Promise.all(shed.map((first) => untilServed(first, submit, 202)));
  accepted.push(...retried);
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
  let statusReadsShed = 0;
  const finished = await Promise.all(
    ids.map(async (id) => {
      const read = () => getJson(`${scenario.stack.url}/api/task/${id}/status/`);
      const first = await read();
      if (isShed(first)) statusReadsShed++;
      return (await untilServed(first, read, 200)).body;
    }),
  );
  expect(finished.filter((t) => t.status !== 'completed' && t.status !== 'failed').length).toBe(0);
  const completed = finished.filter((t) => t.status === 'completed').length;
  expect(completed).toBe(ids.length);
  process.stdout.write(`[load] ${N} submissions in ${Math.round(submitMs)} ms (${shed.length} resubmitted after Retry-After); all ${completed} completed after ${Math.round(totalMs)} ms; ${statusReadsShed} of ${ids.length} status reads at once told to retry\n`);
}, 300_000);
