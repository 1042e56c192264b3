/**
 * The local worker runner, the analogue of an SQS event-source mapping (`npm run worker`,
 * `npm start`'s workers): it long-polls the queues its worker serves, prepares each message once
 * (lib/worker/task.ts), runs it (lib/worker/consume.ts), deletes what settled done in batches
 * (lib/worker/batched-deletes.ts) and leaves the rest to reappear after the backoff the task set,
 * or the visibility timeout if the process died. It also beats the heart on its own timer and
 * offers to run the dead-letter sweeper every SWEEP_INTERVAL_S (lib/worker/sweeper.ts).
 *
 * One image at a time, with the I/O around it overlapped: the next message is received, and
 * its image read, while the current image is processed (WORKER_PREFETCH); and the next image
 * starts while the previous result is still being stored (up to SETTLING_MAX of them).
 * stop(): finish the tasks in hand, hand back those not started, deregister.
 */
import { ChangeMessageVisibilityCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import type { Clients } from '../core/clients';
import { sleep } from '../core/time';
import { loadOpenCv } from '../filters/opencv';
import { FILTERS } from '../filters/registry';
import { ROUTES, routeQueueName, routeQueueUrl, routesServedBy } from '../tasks/dispatch';
import { taskIdOf } from '../tasks/message';
import { taskQueueUrl } from '../tasks/queues';
import { BatchedDeletes } from './batched-deletes';
import { readAhead, runTask } from './consume';
import { deregisterWorker, heartbeat, registerWorker, type WorkerIdentity } from './registry';
import { sweepDeadLetters } from './sweeper';
import { prepareTask, type Delivery, type PreparedTask } from './task';

/** After a failed receive (emulator restarting, network): first pause, doubled up to the cap. */
const RECEIVE_RETRY_FIRST_MS = 250;
const RECEIVE_RETRY_MAX_MS = 5000;
/**
 * With several class queues (capability dispatch) the runner polls each without waiting,
 * so it is not stuck in one queue's long poll while another has work; after a round with
 * nothing anywhere it pauses this long, which bounds both idle latency and idle polling.
 */
const EMPTY_ROUND_PAUSE_MS = 200;
/** Messages taken beyond the task whose image is being processed (with WORKER_PREFETCH). */
const READ_AHEAD = 1;
/**
 * Tasks processed whose result is still going to S3 and Redis (S3 put, outcome, counters,
 * SQS delete) before the runner takes another message: a slow S3 or Redis stops it taking
 * work it cannot finish, rather than piling results up in memory.
 */
const SETTLING_MAX = 2;
/**
 * Longest a settled message waits to be deleted with others in one DeleteMessageBatch while
 * the runner has more in hand: a busy worker then makes one delete call per two or three
 * tasks. A runner left with nothing in hand deletes at once.
 */
const DELETE_BATCH_MS = 250;

/** The runner could not start: the message says why and what to do. */
export class RunnerStartError extends Error {}

export interface RunnerOutput {
  info: (line: string) => void;
  error: (line: string) => void;
}

const STDIO: RunnerOutput = {
  info: (line) => process.stdout.write(`${line}\n`),
  error: (line) => process.stderr.write(`${line}\n`),
};

interface Queue {
  url: string;
  name: string;
}

/** A message received and not yet started: its delivery, and the task it was prepared into. */
interface Held {
  delivery: Delivery;
  task: PreparedTask;
}

/** The queues a worker consumes: the one task queue (FIFO dispatch), or every class queue it fully covers (capability dispatch). */
export async function workerQueues(deps: Clients, worker: WorkerIdentity): Promise<Queue[]> {
  if (deps.config.dispatch.mode !== 'capability') return [{ url: await taskQueueUrl(deps), name: deps.config.aws.queueName }];
  const served = routesServedBy(worker.capabilities);
  if (served.length === 0) {
    throw new RunnerStartError(
      `capabilities [${worker.capabilities.join(', ')}] cover no worker class (${ROUTES.map((r) => `${r.name}: ${r.filters.join(',')}`).join('; ')}); it would never get a task`,
    );
  }
  return Promise.all(served.map(async (r) => ({ url: await routeQueueUrl(deps, r), name: routeQueueName(deps, r) })));
}

/**
 * Resolves once the event loop has polled for I/O and signals again. A stop that came while
 * an image held the JS thread is only seen at that poll, and an image whose last step has
 * no await (libjpeg-turbo encodes synchronously) reports itself processed inside the callback
 * it ran in, before any poll: the first immediate ends that loop iteration, the second runs
 * after the next poll.
 */
async function afterNextPoll(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
}

export class WorkerRunner {
  private queues: Queue[] = [];
  private stopping = false;
  private readonly waiters = new Set<() => void>();
  /** Received and not yet started; with prefetch their images are already being read. */
  private readonly held: Held[] = [];
  /** Every message taken and not yet settled or released, by message id (see adoptRedelivery). */
  private readonly inHand = new Map<string, Delivery>();
  /** Started and not yet settled. */
  private readonly inFlight = new Set<Promise<void>>();
  /** Started tasks whose image is not processed yet: 0 or 1. */
  private imaging = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly deletes: BatchedDeletes;
  private finished: Promise<void> | undefined;

  constructor(
    private readonly deps: Clients,
    readonly worker: WorkerIdentity,
    private readonly out: RunnerOutput = STDIO,
  ) {
    this.deletes = new BatchedDeletes(deps.sqs, DELETE_BATCH_MS, (messageId, reason) =>
      this.out.error(`[worker] ${worker.id}: delete failed for ${messageId} (it will reappear and be acknowledged then): ${reason}`),
    );
  }

  /** The names of the queues it consumes (after start). */
  get queueNames(): string[] {
    return this.queues.map((q) => q.name);
  }

  /** Finds its queues, loads what its filters need, registers; then takes tasks until stop(). Rejects with RunnerStartError when it cannot. */
  async start(): Promise<void> {
    const { deps, worker } = this;
    try {
      this.queues = await workerQueues(deps, worker);
    } catch (e) {
      if (e instanceof RunnerStartError) throw e;
      throw new RunnerStartError(`cannot reach the task queue ${deps.config.aws.queueName} at ${deps.config.aws.endpoint ?? 'AWS'}: ${(e as Error).message}. Is the stack running?`);
    }
    // OpenCV takes ~0.3-0.4 s to load: pay it before taking tasks, not inside the first one,
    // and only for a worker that has OpenCV filters.
    if (worker.capabilities.some((f) => FILTERS[f].library === 'opencv')) await loadOpenCv();
    await registerWorker(deps, worker).catch((e) => {
      throw new RunnerStartError(`cannot register in Redis at ${deps.config.redis.url}: ${(e as Error).message}`);
    });
    this.timers.push(setInterval(() => void heartbeat(deps, worker.id).catch(() => undefined), deps.config.workers.heartbeatIntervalS * 1000));
    // Every worker offers to sweep; a lock in Redis lets one of them do it each interval.
    this.timers.push(setInterval(() => void this.sweepQuietly(), deps.config.workers.sweepIntervalS * 1000));
    const receiving = this.receive();
    this.finished = this.startTasks().then(async () => {
      await receiving;
      await this.drain();
    });
  }

  /** Finish the tasks in hand, then stop; `done` resolves when it has. */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.changed();
  }

  /** Resolves once a started runner has stopped and deregistered. */
  get done(): Promise<void> {
    if (!this.finished) throw new Error('WorkerRunner.done before start()');
    return this.finished;
  }

  private changed(): void {
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  private nextChange(): Promise<void> {
    return new Promise<void>((resolve) => this.waiters.add(resolve));
  }

  private async sweepQuietly(): Promise<void> {
    const id = this.worker.id;
    try {
      const r = await sweepDeadLetters(this.deps);
      if (r.settled.length) this.out.info(`[worker] ${id}: sweeper settled ${r.settled.length} dead-lettered task(s): ${r.settled.join(', ')}`);
      if (r.sentAgain.length) this.out.info(`[worker] ${id}: sweeper sent back ${r.sentAgain.length} dead-lettered task(s) whose deliveries had not all started: ${r.sentAgain.join(', ')}`);
    } catch {
      // Redis or SQS down: the next interval tries again, which is the point of sweeping.
    }
  }

  /**
   * A message this runner already holds or runs, delivered again because its visibility timeout
   * ran out first (a task longer than VISIBILITY_TIMEOUT_S): the delivery takes the new receipt
   * handle and receive count, since SQS deletes, backs off and releases a message only by its
   * newest handle, and the task is not started a second time, which would claim it from the
   * attempt still running here and throw that attempt's work away.
   */
  private adoptRedelivery(m: Message): boolean {
    const delivery = this.inHand.get(m.MessageId!);
    if (!delivery) return false;
    delivery.receiptHandle = m.ReceiptHandle!;
    delivery.receiveCount = Number(m.Attributes?.ApproximateReceiveCount ?? delivery.receiveCount);
    return true;
  }

  private full(): boolean {
    const ahead = this.deps.config.workers.prefetch ? READ_AHEAD : 0;
    return this.held.length + this.imaging > ahead || this.inFlight.size - this.imaging >= SETTLING_MAX;
  }

  /**
   * Receiving runs apart from starting, so the next message is asked for (and its image read)
   * as soon as there is room for it, not after the task before the current one has settled:
   * the round trips happen while other work waits on its own, off the path between one image
   * and the next.
   */
  private async receive(): Promise<void> {
    const { deps, worker, queues } = this;
    let backoffMs = RECEIVE_RETRY_FIRST_MS;
    let turn = 0;
    let emptyInARow = 0;
    while (!this.stopping) {
      if (this.full()) {
        await this.nextChange();
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
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
        );
        messages = res.Messages ?? [];
        emptyInARow = messages.length ? 0 : emptyInARow + 1;
        backoffMs = RECEIVE_RETRY_FIRST_MS;
      } catch (e) {
        this.out.error(`[worker] ${worker.id}: receive failed (${(e as Error).message}); retrying in ${backoffMs} ms`);
        await sleep(backoffMs);
        backoffMs = Math.min(backoffMs * 2, RECEIVE_RETRY_MAX_MS);
        continue;
      }
      for (const m of messages) {
        if (this.adoptRedelivery(m)) {
          this.out.info(
            `[worker] ${worker.id}: task ${taskIdOf(m.Body ?? '') ?? '?'} came back from the queue while this worker still has it (VISIBILITY_TIMEOUT_S ${deps.config.aws.visibilityTimeoutS} s ran out); kept, not started again`,
          );
          continue;
        }
        const delivery: Delivery = {
          messageId: m.MessageId!,
          receiptHandle: m.ReceiptHandle!,
          body: m.Body ?? '',
          receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
          queueName: queue.name,
          queueUrl: queue.url,
        };
        const task = prepareTask(delivery, worker);
        if (deps.config.workers.prefetch) readAhead(deps, task);
        this.inHand.set(delivery.messageId, delivery);
        this.held.push({ delivery, task });
      }
      this.changed();
    }
  }

  /** One image at a time, the next as soon as the current one is processed. */
  private async startTasks(): Promise<void> {
    for (;;) {
      while (!this.stopping && (this.held.length === 0 || this.imaging > 0)) await this.nextChange();
      if (this.stopping) return;
      await afterNextPoll();
      if (this.stopping) return;
      const { delivery, task } = this.held.shift()!;
      this.imaging++;
      const running = runTask(this.deps, this.worker, delivery, task);
      void running.imageDone.then(() => {
        this.imaging--;
        this.changed();
      });
      const settled = running.settled.then((disposition) => {
        if (disposition === 'done') this.deletes.add(delivery.queueUrl!, delivery.messageId, delivery.receiptHandle);
        this.inFlight.delete(settled);
        this.inHand.delete(delivery.messageId);
        // Batching pays only while tasks follow one another: with nothing else in hand, the
        // queue shows the work as done now rather than up to DELETE_BATCH_MS later.
        if (this.held.length === 0 && this.imaging === 0 && this.inFlight.size === 0) void this.deletes.flush();
        this.changed();
      });
      this.inFlight.add(settled);
    }
  }

  /** After stopping: hands back what was taken but not started, waits for the rest, deregisters. */
  private async drain(): Promise<void> {
    const { deps } = this;
    // Taken but not started: visible to other workers now rather than after the visibility timeout.
    await Promise.all(
      this.held.splice(0).map(({ delivery }) =>
        deps.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: delivery.queueUrl, ReceiptHandle: delivery.receiptHandle, VisibilityTimeout: 0 })).catch(() => undefined),
      ),
    );
    await Promise.all(this.inFlight);
    await this.deletes.flush();
    for (const t of this.timers) clearInterval(t);
    await deregisterWorker(deps, this.worker.id).catch(() => undefined);
  }
}
