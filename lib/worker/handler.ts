/**
 * The SQS consumer function (SQSEvent → SQSBatchResponse) on AWS and LocalStack: each record
 * prepared once into a task and run (lib/worker/consume.ts), one after another. Failed records
 * are reported in batchItemFailures so only they are redelivered. The local runner
 * (lib/worker/runner.ts) runs the same tasks from its own receives.
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Clients } from '../core/clients';
import { errorFields, log } from '../core/log';
import { runTask } from './consume';
import { heartbeat, registerWorker, type WorkerIdentity } from './registry';
import { prepareTask, type Delivery } from './task';

export function deliveryOfRecord(record: SQSRecord): Delivery {
  return {
    messageId: record.messageId,
    receiptHandle: record.receiptHandle,
    body: record.body,
    receiveCount: Number(record.attributes?.ApproximateReceiveCount ?? 1),
    // arn:aws:sqs:<region>:<account>:<queue name>
    queueName: record.eventSourceARN?.split(':').pop() ?? '',
  };
}

export function createWorkerHandler(getDeps: () => Clients | Promise<Clients>, getIdentity: () => WorkerIdentity) {
  let registered = false;
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const deps = await getDeps();
    const worker = getIdentity();
    // On Lambda there is no process between invocations to beat the heart: each invocation does.
    // Without Redis the records are still run, and retried after a backoff; failing the whole
    // batch here would wait out the full visibility timeout.
    try {
      if (!registered) {
        await registerWorker(deps, worker);
        registered = true;
      } else await heartbeat(deps, worker.id);
    } catch (e) {
      log.warn('worker registration/heartbeat failed', { worker: worker.id, ...errorFields(e) });
    }
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      const delivery = deliveryOfRecord(record);
      if ((await runTask(deps, worker, delivery, prepareTask(delivery, worker)).settled) === 'retry') batchItemFailures.push({ itemIdentifier: record.messageId });
    }
    return { batchItemFailures };
  };
}
