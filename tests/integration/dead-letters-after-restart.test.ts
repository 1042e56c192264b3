/**
 * The embedded emulator keeps its queues in memory, so a restart of `npm start` starts with an
 * empty dead-letter queue. Redis still knows which tasks failed into it: the next start puts
 * their dead letters back, so they are listed by GET /api/dlq/ and can be redriven as before.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { closeClients } from '../../lib/core/clients';
import { parseFilterSteps } from '../../lib/filters/request';
import { taskQueueUrl } from '../../lib/tasks/queues';
import { createTasks } from '../../lib/tasks/store';
import { waitFor } from '../../scripts/local/processes';
import { postJson } from '../helpers/batch';
import { getJson, stackClients } from '../helpers/shared-stack';
import { isolatedEnv, startStack, type RunningStack } from '../helpers/stack';
import { waitForTask } from '../helpers/workers';

let dataDir: string;
const stacks: RunningStack[] = [];
afterAll(async () => {
  for (const s of stacks) await s.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('dead letters are back in the dead-letter queue after a restart, listed and redriven', async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'dead-letters-after-restart-'));
  const env = await isolatedEnv({ LOCAL_DATA_DIR: dataDir, WORKERS: 'worker-3', HEARTBEAT_INTERVAL_S: '1', POLL_WAIT_S: '1', VISIBILITY_TIMEOUT_S: '5', MAX_RECEIVE_COUNT: '2' });
  const first = await startStack(env, 'dead-letters-first');
  stacks.push(first);

  // A task whose message no delivery can process: its record is sound, its body is not.
  const deps = stackClients(first);
  const id = randomUUID();
  await createTasks(deps, [{ task_id: id, batch_id: id, image: 'sample_4k.jpg', steps: parseFilterSteps(['brightness'], { brightness: { factor: 1.3 } }), queued_at: Date.now() }]);
  await deps.sqs.send(
    new SendMessageCommand({ QueueUrl: await taskQueueUrl(deps), MessageBody: JSON.stringify({ task_id: id, image: 'sample_4k.jpg', steps: 'garbage', queued_at: Date.now() }), MessageGroupId: id, MessageDeduplicationId: id }),
  );
  await closeClients(deps);
  expect(await waitForTask(first, id, (t) => t.status === 'failed', 30_000)).toMatchObject({ failure_type: 'worker_failure', failure_reason: 'max_deliveries_exceeded' });
  const listed = async (stack: RunningStack) => {
    const { body } = await getJson(`${stack.url}/api/dlq/`);
    return body.messages.some((m: { task_id: string }) => m.task_id === id) ? body : undefined;
  };
  const before = await waitFor('the dead letter in the DLQ', 20_000, () => listed(first), 250);
  expect(before.messages.find((m: { task_id: string }) => m.task_id === id)).toMatchObject({ readable: false });
  expect(await first.stop('SIGINT')).toBe(0);

  const second = await startStack(env, 'dead-letters-second');
  stacks.push(second);
  expect(second.output()).toMatch(/restored from Redis: 0 unfinished task\(s\) queued again, 0 missing result\(s\) being recomputed, 1 dead letter\(s\) back in the dead-letter queue/);
  // Put back from the task's record: a message a worker can run, so a redrive completes it.
  const after = (await listed(second))!;
  expect(after).toBeDefined();
  expect(after.messages.find((m: { task_id: string }) => m.task_id === id)).toMatchObject({ image: 'sample_4k.jpg', filters: ['brightness'], task_status: 'failed', failure_reason: 'max_deliveries_exceeded', readable: true });
  expect((await getJson(`${second.url}/api/workers/status/`)).body.queue.dead_letter).toBe(1);

  // Right after the listing, which hid the message for a second: the redrive waits for it.
  const redrive = await postJson(`${second.url}/api/dlq/redrive/`, { max: 10 });
  expect(redrive.status).toBe(200);
  expect(redrive.body).toMatchObject({ redriven: 1, task_ids: [id], skipped: [] });
  const done = await waitForTask(second, id, (t) => t.status === 'completed', 60_000);
  expect(done.result.key).toMatch(/^processed\//);
}, 180_000);
