/**
 * The SQS consumer function body (SQSEvent → SQSBatchResponse): the same code runs as a
 * Lambda on AWS/LocalStack and inside the local runner (scripts/worker.ts). Failed
 * records are reported in batchItemFailures so only they are redelivered.
 */
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Clients } from '../core/clients';
import { errorFields, log } from '../core/log';
import { consume, type ImageRunner, type PrefetchedInput } from './consume';
import { heartbeat, registerWorker, type WorkerIdentity } from './registry';

/** For a runner that overlaps tasks (scripts/worker.ts); see lib/worker/consume.ts. */
export interface WorkerHandlerHooks {
  /** A record no longer needs the CPU: its image is processed (its result may still be being stored), or it ended before. */
  processed?: (record: SQSRecord) => void;
  /** The record's source image, if the runner started reading it ahead. */
  input?: (record: SQSRecord) => PrefetchedInput | undefined;
  /** The runner beats the heart on its own timer, so an invocation need not. */
  beatsOnTimer?: boolean;
  /** Processes images off the JS thread (the runner's image thread); Lambda processes them in line. */
  runImage?: ImageRunner;
}

export function createWorkerHandler(getDeps: () => Clients | Promise<Clients>, getIdentity: () => WorkerIdentity, hooks: WorkerHandlerHooks = {}) {
  let registered = false;
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const deps = await getDeps();
    const worker = getIdentity();
    // On Lambda there is no process between invocations to beat the heart: each invocation does.
    // Without Redis the records are still handed to consume(), which retries them after a
    // backoff; failing the whole batch here would wait out the full visibility timeout.
    try {
      if (!registered) {
        await registerWorker(deps, worker);
        registered = true;
      } else if (!hooks.beatsOnTimer) await heartbeat(deps, worker.id);
    } catch (e) {
      // The runner's start-up call has no records: there, failing to register is a start-up failure.
      if (event.Records.length === 0) throw e;
      log.warn('worker registration/heartbeat failed', { worker: worker.id, ...errorFields(e) });
    }
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        if ((await consume(deps, worker, record, { processed: () => hooks.processed?.(record), input: hooks.input?.(record), runImage: hooks.runImage })) === 'retry') batchItemFailures.push({ itemIdentifier: record.messageId });
      } catch (e) {
        log.error('message left for redelivery', { worker: worker.id, message_id: record.messageId, ...errorFields(e) });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
}
