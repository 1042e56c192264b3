/**
 * lib/tasks/recovery.ts against the real emulator and Redis, on a prefix and queues of its
 * own: what a restart puts back from Redis. Unfinished tasks are sent again, a completed task
 * whose result is gone is recomputed, and failures that went to the dead-letter queue are put
 * back there. Stored results are checked one HeadObject each for a short history and by
 * listing processed/ for a long one.
 */
import { randomUUID } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { closeClients, type Clients } from '../../lib/core/clients';
import { parseFilterSteps } from '../../lib/filters/request';
import { taskResultKey } from '../../lib/images/keys';
import { recoverAfterEmulatorLoss } from '../../lib/tasks/recovery';
import { claimTask, createTasks, finishAttempt, getTasks } from '../../lib/tasks/store';
import { recordCalls } from '../helpers/sdk-calls';
import { sharedStack, stackClients } from '../helpers/shared-stack';

const opened: { deps: Clients; queues: string[] }[] = [];
afterAll(async () => {
  for (const { deps, queues } of opened) {
    for (const QueueUrl of queues) await deps.sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => undefined);
    await closeClients(deps);
  }
});

/** Clients on a Redis prefix, task queue and dead-letter queue of their own (the shared bucket). */
async function ownClients(name: string): Promise<{ deps: Clients; taskQueue: string; dlq: string }> {
  const stack = sharedStack();
  const suffix = `${name}-${process.pid}-${Date.now()}`;
  const deps = stackClients({ ...stack, env: { ...stack.env, REDIS_PREFIX: `${stack.env.REDIS_PREFIX}-${suffix}`, QUEUE_NAME: `${suffix}.fifo`, DLQ_NAME: `${suffix}-dlq.fifo`, QUEUE_URL: '', DLQ_URL: '' } });
  const create = async (QueueName: string) => (await deps.sqs.send(new CreateQueueCommand({ QueueName, Attributes: { FifoQueue: 'true' } }))).QueueUrl!;
  const [taskQueue, dlq] = [await create(`${suffix}.fifo`), await create(`${suffix}-dlq.fifo`)];
  opened.push({ deps, queues: [taskQueue, dlq] });
  return { deps, taskQueue, dlq };
}

type Kind = 'pending' | 'stored' | 'lost' | 'dead';

/** Task records as workers leave them; a `stored` task's result object is put in the bucket, a `lost` one's is not. */
async function history(deps: Clients, kinds: Kind[]): Promise<Map<Kind, string[]>> {
  const ids = new Map<Kind, string[]>();
  const tasks = kinds.map((kind) => ({ kind, id: randomUUID() }));
  await createTasks(deps, tasks.map(({ id }) => ({ task_id: id, batch_id: id, image: 'sample_4k.jpg', steps: parseFilterSteps(['brightness'], { brightness: { factor: 1.2 } }), queued_at: Date.now() })));
  for (const { kind, id } of tasks) {
    ids.set(kind, [...(ids.get(kind) ?? []), id]);
    if (kind === 'pending') continue;
    expect((await claimTask(deps, id, 'worker-3')).state).toBe('claimed');
    const finished_at = new Date().toISOString();
    if (kind === 'dead') {
      await finishAttempt(deps, id, 1, 'dead_lettered', { status: 'failed', failure_type: 'worker_failure', failure_reason: 'max_deliveries_exceeded', finished_at });
      continue;
    }
    const key = taskResultKey(id, 'sample_4k.jpg');
    await finishAttempt(deps, id, 1, 'completed', { status: 'completed', result_key: key, finished_at });
    if (kind === 'stored') await deps.s3.send(new PutObjectCommand({ Bucket: deps.config.aws.bucket, Key: key, Body: Buffer.from('a result'), ContentType: 'image/jpeg' }));
  }
  return ids;
}

async function receiveAll(deps: Clients, queueUrl: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let polls = 0; ids.length < n && polls < 20; polls++) {
    const res = await deps.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60 }));
    ids.push(...(res.Messages ?? []).map((m) => JSON.parse(m.Body!).task_id as string));
  }
  return ids.sort();
}

test('a short history: unfinished tasks sent again, a lost result recomputed, dead letters put back; one HeadObject per result', async () => {
  const { deps, taskQueue, dlq } = await ownClients('recovery-short');
  const ids = await history(deps, ['pending', 'stored', 'stored', 'lost', 'dead', 'dead']);
  const heads = recordCalls(deps.s3, 'HeadObjectCommand');
  const lists = recordCalls(deps.s3, 'ListObjectsV2Command');

  expect(await recoverAfterEmulatorLoss(deps)).toEqual({ resent: 1, recomputed: 1, deadLetters: 2 });
  expect(heads).toHaveLength(3);
  expect(lists).toHaveLength(0);
  expect(await receiveAll(deps, taskQueue, 2)).toEqual([...ids.get('pending')!, ...ids.get('lost')!].sort());
  expect(await receiveAll(deps, dlq, 2)).toEqual([...ids.get('dead')!].sort());
  const [lost] = await getTasks(deps, ids.get('lost')!);
  expect(lost).toMatchObject({ status: 'pending' });
  for (const t of await getTasks(deps, ids.get('stored')!)) expect(t.status).toBe('completed');
  for (const t of await getTasks(deps, ids.get('dead')!)) expect(t).toMatchObject({ status: 'failed', failure_reason: 'max_deliveries_exceeded' });
}, 60_000);

test('a long history is checked by listing processed/, not one request per task', async () => {
  const { deps, taskQueue } = await ownClients('recovery-long');
  const kinds: Kind[] = [...Array.from({ length: 118 }, () => 'stored' as const), 'lost', 'lost'];
  const ids = await history(deps, kinds);
  const heads = recordCalls(deps.s3, 'HeadObjectCommand');
  const lists = recordCalls(deps.s3, 'ListObjectsV2Command');

  expect(await recoverAfterEmulatorLoss(deps)).toEqual({ resent: 0, recomputed: 2, deadLetters: 0 });
  expect(heads).toHaveLength(0);
  expect(lists.length).toBeGreaterThanOrEqual(1);
  expect(lists.every((l) => (l as { Prefix?: string }).Prefix === 'processed/')).toBe(true);
  expect(await receiveAll(deps, taskQueue, 2)).toEqual([...ids.get('lost')!].sort());
}, 120_000);
