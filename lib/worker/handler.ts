/**
 * The SQS consumer function body (SQSEvent → SQSBatchResponse): the same code runs as a
 * Lambda on AWS/LocalStack and inside the local runner (scripts/worker.ts). Failed
 * records are reported in batchItemFailures so only they are redelivered.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Clients } from '../core/clients';
import { errorFields, log } from '../core/log';
import { consume } from './consume';
import { heartbeat, registerWorker, type WorkerIdentity } from './registry';

export function createWorkerHandler(getDeps: () => Clients, getIdentity: () => WorkerIdentity) {
  let registered = false;
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const deps = getDeps();
    const worker = getIdentity();
    // On Lambda there is no process between invocations to beat the heart: each invocation does.
    if (!registered) {
      await registerWorker(deps, worker);
      registered = true;
    } else await heartbeat(deps, worker.id);
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        if ((await consume(deps, worker, record)) === 'retry') batchItemFailures.push({ itemIdentifier: record.messageId });
      } catch (e) {
        log.error('message left for redelivery', { worker: worker.id, message_id: record.messageId, ...errorFields(e) });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}
