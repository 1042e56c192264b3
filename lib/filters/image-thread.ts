/**
 * One thread that processes a worker's images, so the JS thread that talks to SQS, S3 and
 * Redis is never blocked by pixels: a task's receive, claim, result upload and bookkeeping
 * run on the main thread beside the next image instead of between two images. Images are
 * queued in the thread itself and run one at a time in the order given, so an image handed
 * over while another runs starts the moment that one ends.
 *
 * Errors keep their class across the boundary (an undecodable image is still an
 * ImageRejectedError the consumer does not retry); a thread that dies fails what it held
 * with FilterCrashedError (retryable) and is replaced on the next run.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { bufferOver } from '../core/bytes';
import { FilterCrashedError, rebuildAppError, type SerializedAppError } from '../core/errors';
import type { ProcessedImage, ProcessLimits } from './pipeline';
import type { FilterStep } from './request';

export type ImageThreadRequest = { type: 'warm'; id: number } | { type: 'run'; id: number; input: Uint8Array; steps: FilterStep[]; limits: ProcessLimits };

/** Take a queued image back; or finish the running one, hand back the queued ones and end the thread. */
export type ImageThreadControl = { type: 'cancel'; id: number } | { type: 'close' };

export type ImageThreadReply =
  | { id: number; ok: true; result?: ProcessedImage }
  | { id: number; ok: false; appError?: SerializedAppError; error?: { name: string; message: string }; cancelled?: boolean };

/** What a run that was cancelled before it started rejects with. */
export class ImageRunCancelled extends Error {
  constructor() {
    super('image run cancelled before it started');
    this.name = 'ImageRunCancelled';
  }
}

const ENTRY = path.join(__dirname, 'image-thread-worker.js');

/**
 * How long close() waits for the running image before stopping the thread by force: only a
 * thread stuck in one image for this long is stopped inside it (see close()).
 */
const CLOSE_GRACE_MS = 60_000;

export class ImageThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { worker: Worker; resolve: (r: ProcessedImage | undefined) => void; reject: (e: Error) => void }>();

  /** Starts the thread and loads OpenCV in it, so the first task does not pay for either. */
  async warm(): Promise<void> {
    await this.request({ type: 'warm', id: this.nextId++ });
  }

  /**
   * Processes an image in the thread, after those handed over before it. The input is copied
   * (the caller may keep it, e.g. in the source cache). An aborted signal takes the run out
   * of the queue if it has not started (it rejects with ImageRunCancelled); a started run
   * finishes and its result is dropped by whoever no longer wants it.
   */
  run(input: Buffer, steps: FilterStep[], limits: ProcessLimits, signal?: AbortSignal): Promise<ProcessedImage> {
    const id = this.nextId++;
    // The output is a Uint8Array after the crossing; the callers get a Buffer over the same memory.
    const result = this.request({ type: 'run', id, input, steps, limits }).then((r) => ({ ...r!, output: bufferOver(r!.output) }));
    signal?.addEventListener('abort', () => this.worker?.postMessage({ type: 'cancel', id } satisfies ImageThreadControl), { once: true });
    return result;
  }

  /**
   * Ends the thread: the running image finishes and its caller gets it, queued ones reject
   * with ImageRunCancelled, then the thread exits by itself. It is not terminated: a thread
   * stopped inside a libjpeg-turbo call aborts the whole process (the addon throws a C++
   * exception it cannot hand to a stopping thread: "terminate called after throwing an
   * instance of 'Napi::Error'"). The next run() starts a new thread.
   */
  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (!w) return;
    // Not events.once: that would reject on an 'error', and a thread that fails still exits.
    const exited = new Promise((resolve) => w.once('exit', resolve));
    w.postMessage({ type: 'close' } satisfies ImageThreadControl);
    const force = setTimeout(() => void w.terminate(), CLOSE_GRACE_MS);
    await exited;
    clearTimeout(force);
  }

  private request(req: ImageThreadRequest): Promise<ProcessedImage | undefined> {
    const worker = this.thread();
    return new Promise((resolve, reject) => {
      this.pending.set(req.id, { worker, resolve, reject });
      worker.postMessage(req);
    });
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(ENTRY);
    // The runner exits by itself when it stops; an idle thread must not keep a test process alive.
    worker.unref();
    worker.on('message', (reply: ImageThreadReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if (reply.ok) p.resolve(reply.result);
      else if (reply.cancelled) p.reject(new ImageRunCancelled());
      else if (reply.appError) p.reject(rebuildAppError(reply.appError));
      else p.reject(Object.assign(new Error(reply.error?.message ?? 'image thread failed'), { name: reply.error?.name ?? 'Error' }));
    });
    const fail = (why: string) => {
      if (this.worker === worker) this.worker = undefined;
      for (const [id, p] of this.pending) {
        if (p.worker !== worker) continue;
        this.pending.delete(id);
        p.reject(new FilterCrashedError(`the image thread ${why}`));
      }
    };
    worker.on('error', (e) => fail(`failed: ${e.message}`));
    worker.on('exit', (code) => fail(`exited (code ${code})`));
    this.worker = worker;
    return worker;
  }
}
