// Submissions send their messages by group commit (lib/tasks/grouped-sends.ts): the first goes
// at once, those that arrive while it is on the wire go together next, at most ten entries a
// call, each submission told only about its own entries. Against the real emulator.
import { CreateQueueCommand, DeleteQueueCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { closeClients } from '../../lib/core/clients';
import { sendGrouped } from '../../lib/tasks/grouped-sends';
import { recordCalls } from '../helpers/sdk-calls';
import { stackClients } from '../helpers/shared-stack';

const deps = stackClients();
let queueUrl: string;

async function receiveAll(n: number): Promise<Message[]> {
  const got: Message[] = [];
  for (let polls = 0; got.length < n && polls < 20; polls++) {
    const res = await deps.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60 }));
    got.push(...(res.Messages ?? []));
  }
  return got;
}

const entries = (submission: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({ Id: String(i), MessageBody: `s${submission}-m${i}`, MessageGroupId: `s${submission}-m${i}`, MessageDeduplicationId: `s${submission}-m${i}` }));

beforeAll(async () => {
  const name = `grouped-sends-${process.pid}-${Date.now()}.fifo`;
  ({ QueueUrl: queueUrl } = (await deps.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { FifoQueue: 'true' } }))) as { QueueUrl: string });
});
afterAll(async () => {
  await deps.sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  await closeClients(deps);
});

test('concurrent submissions share calls of at most ten entries, the first alone, and every message arrives once', async () => {
  const calls = recordCalls<{ Entries: unknown[] }>(deps.sqs, 'SendMessageBatchCommand');
  // 12 submissions at once, of 1 to 4 messages: 29 messages.
  const counts = [1, 3, 1, 4, 2, 1, 4, 3, 1, 2, 4, 3];
  const refused = await Promise.all(counts.map((c, s) => sendGrouped(deps.sqs, queueUrl, entries(s, c))));
  expect(refused.every((r) => r.length === 0)).toBe(true);

  const total = counts.reduce((a, b) => a + b, 0);
  const sizes = calls.map((c) => c.Entries.length);
  expect(sizes[0]).toBe(1);
  expect(sizes.reduce((a, b) => a + b, 0)).toBe(total);
  expect(Math.max(...sizes)).toBeLessThanOrEqual(10);
  // Without grouping, one call per submission.
  expect(sizes.length).toBeLessThan(counts.length);

  const bodies = (await receiveAll(total)).map((m) => m.Body!).sort();
  expect(bodies).toEqual(counts.flatMap((c, s) => entries(s, c).map((e) => e.MessageBody)).sort());
});

test('a call SQS refuses fails every submission in it, and the next submission still goes', async () => {
  const missing = `${queueUrl.replace(/[^/]+$/, '')}no-such-queue-${Date.now()}.fifo`;
  const results = await Promise.allSettled([1, 2, 3].map((c, s) => sendGrouped(deps.sqs, missing, entries(100 + s, c))));
  expect(results.every((r) => r.status === 'rejected')).toBe(true);
  expect(await sendGrouped(deps.sqs, queueUrl, entries(200, 2))).toEqual([]);
  expect((await receiveAll(2)).map((m) => m.Body).sort()).toEqual(['s200-m0', 's200-m1']);
});

test('a submission of more than ten messages is refused before anything is sent', () => {
  expect(() => sendGrouped(deps.sqs, queueUrl, entries(300, 11))).toThrow(/1 to 10 messages, not 11/);
});
