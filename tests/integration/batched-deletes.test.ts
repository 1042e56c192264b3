// The local runner deletes settled messages in batches (lib/worker/batched-deletes.ts): at most
// ten per call and at most its delay after settling, everything pending on flush, and the
// messages of a batch SQS refused are reported by id. Against the real emulator.
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { closeClients } from '../../lib/core/clients';
import { sleep } from '../../lib/core/time';
import { BatchedDeletes } from '../../lib/worker/batched-deletes';
import { recordCalls } from '../helpers/sdk-calls';
import { stackClients } from '../helpers/shared-stack';

const deps = stackClients();
let queueUrl: string;

/** Counts the client's DeleteMessageBatch calls. */
function countBatches(sqs: SQSClient): { readonly calls: number } {
  const calls = recordCalls(sqs, 'DeleteMessageBatchCommand');
  return {
    get calls() {
      return calls.length;
    },
  };
}

async function inFlightAndVisible(): Promise<[number, number]> {
  const { Attributes: a = {} } = await deps.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessages'] }),
  );
  return [Number(a.ApproximateNumberOfMessagesNotVisible), Number(a.ApproximateNumberOfMessages)];
}

async function receiveAll(n: number): Promise<Message[]> {
  const got: Message[] = [];
  while (got.length < n) {
    const res = await deps.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 60 }));
    got.push(...(res.Messages ?? []));
  }
  return got;
}

beforeEach(async () => {
  const name = `batched-deletes-${process.pid}-${Date.now()}.fifo`;
  ({ QueueUrl: queueUrl } = (await deps.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { FifoQueue: 'true' } }))) as { QueueUrl: string });
  for (let i = 0; i < 12; i++) {
    // One group per message, as tasks have: an undeleted message holds back no other.
    await deps.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: `m${i}`, MessageGroupId: `g${i}`, MessageDeduplicationId: `d${i}` }));
  }
});

afterEach(() => deps.sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })));
afterAll(() => closeClients(deps));

test('ten settled messages go in one call at once, the rest after the delay, and none comes back', async () => {
  const calls = countBatches(deps.sqs);
  const failures: string[] = [];
  const deletes = new BatchedDeletes(deps.sqs, 400, (id) => failures.push(id));
  const messages = await receiveAll(12);
  for (const m of messages) deletes.add(queueUrl, m.MessageId!, m.ReceiptHandle!);
  // The first ten were sent as the tenth was added; the last two wait for the delay.
  await sleep(150);
  expect(calls.calls).toBe(1);
  expect(await inFlightAndVisible()).toEqual([2, 0]);
  await sleep(500);
  expect(calls.calls).toBe(2);
  expect(await inFlightAndVisible()).toEqual([0, 0]);
  expect(failures).toEqual([]);
});

test('flush sends what is pending now and waits for the answers', async () => {
  const deletes = new BatchedDeletes(deps.sqs, 60_000, () => undefined);
  const messages = await receiveAll(12);
  for (const m of messages.slice(0, 3)) deletes.add(queueUrl, m.MessageId!, m.ReceiptHandle!);
  await deletes.flush();
  expect(await inFlightAndVisible()).toEqual([9, 0]);
});

test('a batch SQS refuses is reported for each of its messages; another queue\'s batch is still deleted', async () => {
  const failures: string[] = [];
  const deletes = new BatchedDeletes(deps.sqs, 60_000, (id, reason) => failures.push(`${id}: ${reason}`));
  const messages = await receiveAll(12);
  deletes.add(queueUrl, messages[0].MessageId!, messages[0].ReceiptHandle!);
  const gone = `${queueUrl.replace(/\.fifo$/, '')}-deleted.fifo`;
  deletes.add(gone, 'lost-1', 'receipt-1');
  deletes.add(gone, 'lost-2', 'receipt-2');
  await deletes.flush();
  expect(failures).toHaveLength(2);
  expect(failures[0]).toMatch(/^lost-1: \S+/);
  expect(failures[1]).toMatch(/^lost-2: \S+/);
  expect(await inFlightAndVisible()).toEqual([11, 0]);
});
