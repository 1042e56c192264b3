// The embedded AWS emulator SIGKILLed mid-run: the API answers clear 503s while it is
// down, `npm start` restarts it and re-sends from Redis the queued tasks it forgot, workers
// reconnect, the results completed before the kill are still in its bucket on disk, and
// every task ends completed with its result in S3.
import { closeClients } from '../../lib/core/clients';
import { waitFor } from '../../scripts/local/processes';
import { fetchResult, postJson } from '../helpers/batch';
import { getJson, stackClients } from '../helpers/shared-stack';
import { scenarioStack, submit, fetchTaskStatus, fetchWorkersStatus } from '../helpers/workers';

const scenario = scenarioStack(
  'emulator-restart',
  { EMULATOR_RESTART_DELAY_MS: '3000', DEPENDENCY_TIMEOUT_MS: '1000', HEARTBEAT_INTERVAL_S: '1', POLL_WAIT_S: '1', VISIBILITY_TIMEOUT_S: '3' },
  ['worker-3'],
);

test('nothing is lost when the emulator dies mid-run', async () => {
  const { stack } = scenario;
  const ids = (await Promise.all(Array.from({ length: 10 }, () => submit(stack, { filters: ['sharpen'] })))).flat();
  await waitFor('some done', 30_000, async () => ((await fetchWorkersStatus(stack)).tasks.completed >= 2 ? true : undefined), 100);

  const pids = [...stack.output().matchAll(/emulator pid (\d+)/g)].map((m) => Number(m[1]));
  process.kill(pids[pids.length - 1], 'SIGKILL');
  const t0 = performance.now();
  const refused = await postJson(`${stack.url}/api/process-batch/distributed/`, { filters: ['blur'] });
  expect(refused.status).toBe(503);
  expect(['sqs', 's3']).toContain(refused.body.error.dependency);
  const health = await getJson(`${stack.url}/api/health/`);
  expect(health.status).toBe(503);
  expect(health.body.failing).toEqual(expect.arrayContaining(['sqs', 's3']));
  expect((await getJson(`${stack.url}/api/task/${ids[0]}/status/`)).status).toBe(200); // Redis still answers
  expect(performance.now() - t0).toBeLessThan(10_000);

  await waitFor('emulator back', 30_000, async () => (/emulator back: queues recreated/.test(stack.output()) ? true : undefined), 200);
  expect(stack.output()).toMatch(/emulator back: queues recreated; [1-9]\d* unfinished task\(s\) re-sent, 0 lost result\(s\) being recomputed/);
  const finished = await waitFor('all completed', 120_000, async () => {
    const all = await Promise.all(ids.map((id) => fetchTaskStatus(stack, id)));
    return all.every((t) => t.status === 'completed') ? all : undefined;
  }, 500);

  const deps = stackClients(stack);
  for (const t of finished) {
    const { meta } = await fetchResult(deps, t.result.key);
    expect([meta.width, meta.height]).toEqual([3840, 2160]);
  }
  await closeClients(deps);
  expect((await fetchWorkersStatus(stack)).tasks.completed).toBe(10);
  expect((await getJson(`${stack.url}/api/health/`)).status).toBe(200);
}, 240_000);
