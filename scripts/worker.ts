/**
 * `npm run worker -- worker-3`: one worker in the foreground against the running stack —
 * the local analogue of an SQS event-source mapping. It long-polls the task queue, hands
 * each message to the same handler the Lambda runs (handlers/worker.ts), deletes what the
 * handler reports done (in batches while busy, at most DELETE_BATCH_MS late) and leaves the
 * rest to reappear after the backoff the handler set (lib/worker/consume.ts), or the
 * visibility timeout if the worker died. It also runs the dead-letter sweeper every
 * SWEEP_INTERVAL_S (lib/tasks/sweeper.ts).
 * It processes one image at a time, but overlaps the I/O around it: with
 * WORKER_IMAGE_THREAD=true (off by default) images run in a thread of
 * their own, so SQS, S3 and Redis calls never wait for pixels; the next message is taken, and
 * its image read (and, with the thread, queued there), while the current task runs
 * (WORKER_PREFETCH); and the next task starts while the previous result is still being
 * stored (SETTLING_MAX). It beats the heart on its own timer, so its invocations of the
 * handler do not each beat again.
 * SIGTERM/SIGINT: finish the tasks in hand, deregister, exit. SIGKILL: a crash.
 */
import { ChangeMessageVisibilityCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';

const id = process.argv[2] ?? process.env.WORKER_ID;
if (id) process.env.WORKER_ID = id;

import { clients, closeClients } from '../lib/core/clients';
import { config, ConfigError, loadConfig } from '../lib/core/config';
import { AppError } from '../lib/core/errors';
import { ROUTES, routeQueueName, routeQueueUrl, routesServedBy } from '../lib/tasks/dispatch';
import { ImageThread } from '../lib/filters/image-thread';
import { loadOpenCv } from '../lib/filters/opencv';
import { FILTERS } from '../lib/filters/registry';
import { taskQueueUrl } from '../lib/tasks/queues';
import { sweepDeadLetters } from '../lib/worker/sweeper';
import { taskIdOf } from '../lib/tasks/message';
import { createWorkerHandler } from '../lib/worker/handler';
import { BatchedDeletes } from '../lib/worker/batched-deletes';
import { prefetchInput, type ImageRunner, type PrefetchedInput } from '../lib/worker/consume';
import { deregisterWorker, heartbeat, resolveIdentity, type WorkerIdentity } from '../lib/worker/registry';
import { processAlive, readLiveStackState, stackStatePath } from './local/stack-state';
import { sleep } from '../lib/core/time';

/** After a failed receive (emulator restarting, network): first pause, doubled up to the cap. */
const RECEIVE_RETRY_FIRST_MS = 250;
const RECEIVE_RETRY_MAX_MS = 5000;
/**
 * With several class queues (capability dispatch) the worker polls each without waiting,
 * so it is not stuck in one queue's long poll while another has work; after a round with
 * nothing anywhere it pauses this long, which bounds both idle latency and idle polling.
 */
const EMPTY_ROUND_PAUSE_MS = 200;
/**
 * Messages taken beyond the task whose image is being processed (with WORKER_PREFETCH): the
 * next one is received, and its image read, while the current image holds the JS thread.
 */
const READ_AHEAD = 1;
/**
 * Tasks processed whose result is still going to S3 and Redis (S3 put, outcome, counters,
 * SQS delete) before the worker takes another message: a slow S3 or Redis stops it taking
 * work it cannot finish, rather than piling results up in memory.
 */
const SETTLING_MAX = 2;
/**
 * Longest a settled message waits to be deleted with others in one DeleteMessageBatch
 * (lib/worker/batched-deletes.ts) while the worker has more in hand: a busy worker then makes
 * one delete call per two or three tasks. A worker left with nothing in hand deletes at once.
 */
const DELETE_BATCH_MS = 250;
/** How often a worker that joined a stack checks that its npm start is still running. */
const STACK_CHECK_MS = 1000;

/** The worker could not start; the one line printed says why and what to do. */
const EXIT_STARTUP_FAILED = 2;

class StartupError extends Error {}

/**
 * With no AWS endpoint or queue URL of its own, a worker joins the stack `npm start` is
 * running (its state file), filling in only variables the shell did not set. Without
 * either it would go to real AWS with no credentials, which is never what a local user meant.
 */
function joinRunningStack(): { description: string; stackPid?: number } {
  const own = loadConfig();
  if (own.aws.endpoint || own.aws.queueUrl) return { description: `the stack at ${own.aws.endpoint ?? own.aws.queueUrl} (AWS_ENDPOINT_URL/QUEUE_URL)` };
  const state = readLiveStackState(own.local.stackStateFile);
  if (!state) {
    throw new StartupError(
      `no running stack to join (${stackStatePath(own.local.stackStateFile)} is missing or its npm start has stopped) and AWS_ENDPOINT_URL is not set: ` +
        'start one first in another terminal (`npm start`, or `WORKERS=none npm start` for none of its own workers), or set AWS_ENDPOINT_URL/QUEUE_URL and REDIS_URL',
    );
  }
  for (const [name, value] of Object.entries(state.env)) {
    if (!process.env[name]) process.env[name] = value;
  }
  return {
    description: `the stack npm start (pid ${state.pid}) is running: API ${state.api_url}, emulator ${state.env.AWS_ENDPOINT_URL}, Redis ${state.env.REDIS_URL} (prefix "${state.env.REDIS_PREFIX}:")`,
    stackPid: state.pid,
  };
}


function toRecord(m: Message, queueArn: string, region: string): SQSRecord {
  const a = m.Attributes ?? {};
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      MessageGroupId: a.MessageGroupId,
      MessageDeduplicationId: a.MessageDeduplicationId,
      SequenceNumber: a.SequenceNumber,
    },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/**
 * A message this worker already holds or runs, delivered again because its visibility timeout
 * ran out first (a task longer than VISIBILITY_TIMEOUT_S): the record takes the new receipt
 * handle and receive count, since SQS deletes, backs off and releases a message only by its
 * newest handle, and the task is not started a second time, which would claim it from the
 * attempt still running here and throw that attempt's work away.
 */
function adoptRedelivery(inHand: Map<string, SQSRecord>, m: Message): SQSRecord | undefined {
  const record = inHand.get(m.MessageId!);
  if (!record) return undefined;
  record.receiptHandle = m.ReceiptHandle!;
  record.attributes.ApproximateReceiveCount = m.Attributes?.ApproximateReceiveCount ?? record.attributes.ApproximateReceiveCount;
  return record;
}

/** Makes messages this worker took but will not handle visible to other workers now. */
async function releaseMessages(deps: ReturnType<typeof clients>, queueUrl: string, records: SQSRecord[]): Promise<void> {
  await Promise.all(
    records.map((r) => deps.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: r.receiptHandle, VisibilityTimeout: 0 })).catch(() => undefined)),
  );
}

async function sweepQuietly(deps: ReturnType<typeof clients>, id: string): Promise<void> {
  try {
    const r = await sweepDeadLetters(deps);
    if (r.settled.length) process.stdout.write(`[worker] ${id}: sweeper settled ${r.settled.length} dead-lettered task(s): ${r.settled.join(', ')}\n`);
    if (r.sentAgain.length) process.stdout.write(`[worker] ${id}: sweeper sent back ${r.sentAgain.length} dead-lettered task(s) whose deliveries had not all started: ${r.sentAgain.join(', ')}\n`);
  } catch {
    // Redis or SQS down: the next interval tries again, which is the point of sweeping.
  }
}

let ready = false;

/**
 * Resolves once the event loop has polled for I/O and signals again. A SIGTERM that came while
 * an image held the JS thread is only handled at that poll, and an image whose last step has
 * no await (libjpeg-turbo encodes synchronously) reports itself processed inside the callback
 * it ran in, before any poll: the first immediate ends that loop iteration, the second runs
 * after the next poll.
 */
async function afterNextPoll(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
}

function cannotStart(e: unknown): never {
  const usage = e instanceof AppError || e instanceof ConfigError ? ' (usage: npm run worker -- worker-1; ids worker-1, worker-2, worker-3, or any id with WORKER_CAPABILITIES)' : '';
  process.stderr.write(`[worker] cannot start: ${(e as Error).message ?? String(e)}${usage}\n`);
  process.exit(EXIT_STARTUP_FAILED);
}

async function main() {
  let worker: WorkerIdentity;
  let joined: ReturnType<typeof joinRunningStack>;
  try {
    joined = joinRunningStack();
    worker = resolveIdentity(config().workers.id, config().workers.capabilities);
  } catch (e) {
    cannotStart(e);
  }
  process.stdout.write(`[worker] ${worker.id}: joining ${joined.description}\n`);
  const deps = clients();
  const imageThread = deps.config.workers.imageThread ? new ImageThread() : undefined;
  const runImage: ImageRunner | undefined = imageThread && ((input, steps, limits, signal) => imageThread.run(input, steps, limits, signal));
  // Per message id of a task started and not yet settled: its image read ahead, and what to
  // call once it no longer needs the CPU.
  const started = new Map<string, { input?: PrefetchedInput; processed: () => void }>();
  const handler = createWorkerHandler(() => deps, () => worker, {
    processed: (r) => started.get(r.messageId)?.processed(),
    input: (r) => started.get(r.messageId)?.input,
    beatsOnTimer: true,
    runImage,
  });
  // FIFO dispatch: the one task queue. Capability dispatch: every class queue this worker covers.
  const capability = deps.config.dispatch.mode === 'capability';
  const served = capability ? routesServedBy(worker.capabilities) : [];
  if (capability && served.length === 0) {
    process.stderr.write(`[worker] ${worker.id}: capabilities [${worker.capabilities.join(', ')}] cover no worker class (${ROUTES.map((r) => `${r.name}: ${r.filters.join(',')}`).join('; ')}); it would never get a task\n`);
    process.exit(EXIT_STARTUP_FAILED);
  }
  const queues = await (capability
    ? Promise.all(served.map(async (r) => ({ url: await routeQueueUrl(deps, r), name: routeQueueName(deps, r) })))
    : taskQueueUrl(deps).then((url) => [{ url, name: deps.config.aws.queueName }])
  ).catch((e) => {
    throw new StartupError(`cannot reach the task queue ${deps.config.aws.queueName} at ${deps.config.aws.endpoint ?? 'AWS'}: ${(e as Error).message}. Is the stack running?`);
  });

  // The receiving and starting loops below sleep until something they wait on changes.
  const waiters = new Set<() => void>();
  const changed = () => {
    for (const wake of waiters) wake();
    waiters.clear();
  };
  const nextChange = () => new Promise<void>((resolve) => waiters.add(resolve));

  let stopping = false;
  let beat: NodeJS.Timeout | undefined;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(`[worker] ${worker.id}: ${signal}, finishing the current task then stopping\n`);
    changed();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // A worker that joined through the state file goes when that stack goes: its emulator
  // (and maybe its Redis) went with it, so there is nothing left to poll.
  const { stackPid } = joined;
  if (stackPid !== undefined) {
    setInterval(() => {
      if (!processAlive(stackPid)) stop(`the stack it joined (npm start pid ${stackPid}) has stopped`);
    }, STACK_CHECK_MS).unref();
  }

  // OpenCV takes ~0.3-0.4 s to load: pay it before taking tasks, not inside the first one,
  // only where images run, and only for a worker that has OpenCV filters.
  if (worker.capabilities.some((f) => FILTERS[f].library === 'opencv')) await (imageThread ? imageThread.warm() : loadOpenCv());
  // Registers on the first (empty) invocation, as a Lambda would on its first event.
  await handler({ Records: [] } as SQSEvent);
  beat = setInterval(() => void heartbeat(deps, worker.id).catch(() => undefined), deps.config.workers.heartbeatIntervalS * 1000);
  // Every worker offers to sweep; a lock in Redis lets one of them do it each interval.
  const sweeper = setInterval(() => void sweepQuietly(deps, worker.id), deps.config.workers.sweepIntervalS * 1000);
  ready = true;
  process.stdout.write(`[worker] ${worker.id} ready (pid ${process.pid}; capabilities: ${worker.all ? 'all' : worker.capabilities.join(', ')}; queues: ${queues.map((q) => q.name).join(', ')})\n`);

  const deletes = new BatchedDeletes(deps.sqs, DELETE_BATCH_MS, (messageId, reason) =>
    process.stderr.write(`[worker] ${worker.id}: delete failed for ${messageId} (it will reappear and be acknowledged then): ${reason}\n`),
  );
  /** Handles the received messages and hands those done to be deleted; resolves once all are settled. */
  const handleAndDelete = async (event: SQSEvent, queueUrl: string): Promise<void> => {
    const result = await handler(event).catch(() => ({ batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) }));
    const failed = new Set(result.batchItemFailures.map((f) => f.itemIdentifier));
    for (const r of event.Records) if (!failed.has(r.messageId)) deletes.add(queueUrl, r.messageId, r.receiptHandle);
  };
  const { prefetch } = deps.config.workers;
  /** Received and not yet started; with prefetch their images are already being read. */
  const held: { event: SQSEvent; queueUrl: string; inputs: (PrefetchedInput | undefined)[] }[] = [];
  /** Every message taken and not yet settled or released, by message id (see adoptRedelivery). */
  const inHand = new Map<string, SQSRecord>();
  /** Started and not yet settled. */
  const inFlight = new Set<Promise<void>>();
  /** Started tasks whose image is not processed yet: 0 or 1. */
  let imaging = 0;

  // Receiving runs apart from starting, so the next message is asked for (and its image read)
  // as soon as there is room for it, not after the task before the current one has settled:
  // the round trips then happen while other work waits on its own, off the path between one
  // image and the next (docs/benchmarks.md, session 8).
  const receiving = (async () => {
    let backoffMs = RECEIVE_RETRY_FIRST_MS;
    let turn = 0;
    let emptyInARow = 0;
    while (!stopping) {
      if (held.length + imaging > (prefetch ? READ_AHEAD : 0) || inFlight.size - imaging >= SETTLING_MAX) {
        await nextChange();
        continue;
      }
      // One queue: long-poll it. Several: take turns without waiting, pause after an empty round.
      const queue = queues[turn++ % queues.length];
      if (queues.length > 1 && emptyInARow >= queues.length) {
        await sleep(EMPTY_ROUND_PAUSE_MS);
        emptyInARow = 0;
      }
      let messages: Message[];
      try {
        const res = await deps.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queue.url,
            MaxNumberOfMessages: 1,
            WaitTimeSeconds: queues.length === 1 ? deps.config.workers.pollWaitS : 0,
            MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp', 'MessageGroupId', 'MessageDeduplicationId'],
          }),
        );
        messages = res.Messages ?? [];
        emptyInARow = messages.length ? 0 : emptyInARow + 1;
        backoffMs = RECEIVE_RETRY_FIRST_MS;
      } catch (e) {
        process.stderr.write(`[worker] ${worker.id}: receive failed (${(e as Error).message}); retrying in ${backoffMs} ms\n`);
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, RECEIVE_RETRY_MAX_MS);
        continue;
      }
      const fresh = messages.filter((m) => {
        const record = adoptRedelivery(inHand, m);
        if (record) process.stdout.write(`[worker] ${worker.id}: task ${taskIdOf(record.body) ?? '?'} came back from the queue while this worker still has it (VISIBILITY_TIMEOUT_S ${deps.config.aws.visibilityTimeoutS} s ran out); kept, not started again\n`);
        return !record;
      });
      if (fresh.length === 0) continue;
      const queueArn = `arn:aws:sqs:${deps.config.aws.region}:000000000000:${queue.name}`;
      const event: SQSEvent = { Records: fresh.map((m) => toRecord(m, queueArn, deps.config.aws.region)) };
      for (const r of event.Records) inHand.set(r.messageId, r);
      held.push({ event, queueUrl: queue.url, inputs: prefetch ? event.Records.map((r) => prefetchInput(deps, r, runImage && { worker, runImage })) : [] });
      changed();
    }
  })();

  // Starting: one image at a time, the next as soon as the current one is processed.
  for (;;) {
    while (!stopping && (held.length === 0 || imaging > 0)) await nextChange();
    if (stopping) break;
    await afterNextPoll();
    if (stopping) break;
    const { event, queueUrl, inputs } = held.shift()!;
    imaging++;
    let imageDone = false;
    const doneImaging = () => {
      if (imageDone) return;
      imageDone = true;
      imaging--;
      changed();
    };
    let unprocessed = event.Records.length;
    event.Records.forEach((r, i) =>
      started.set(r.messageId, {
        input: inputs[i],
        processed: () => {
          if (--unprocessed === 0) doneImaging();
        },
      }),
    );
    const settled = handleAndDelete(event, queueUrl).finally(() => {
      doneImaging();
      inFlight.delete(settled);
      for (const r of event.Records) {
        started.delete(r.messageId);
        inHand.delete(r.messageId);
      }
      // Batching pays only while tasks follow one another: with nothing else in hand, the
      // queue shows the work as done now rather than up to DELETE_BATCH_MS later.
      if (held.length === 0 && imaging === 0 && inFlight.size === 0) void deletes.flush();
      changed();
    });
    inFlight.add(settled);
  }
  await receiving;
  // Taken but not started: handed back at once rather than after the visibility timeout, their images taken out of the thread's queue.
  await Promise.all(
    held.splice(0).map((h) => {
      for (const input of h.inputs) input?.cancel();
      return releaseMessages(deps, h.queueUrl, h.event.Records);
    }),
  );
  await Promise.all(inFlight);
  await deletes.flush();
  clearInterval(beat);
  clearInterval(sweeper);
  await deregisterWorker(deps, worker.id).catch(() => undefined);
  await imageThread?.close();
  await closeClients(deps);
  process.stdout.write(`[worker] ${worker.id} stopped\n`);
  process.exit(0);
}

main().catch((e) => {
  if (!ready) cannotStart(e);
  process.stderr.write(`[worker] stopped on an unexpected error: ${(e as Error).message ?? String(e)}\n`);
  process.exit(1);
});
