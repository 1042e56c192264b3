/**
 * Inside the image thread (image-thread.ts): images arrive as messages and are processed one
 * at a time, in arrival order, from a queue kept here. The next image therefore starts the
 * moment the previous one ends, without waiting for the main thread to hand it over.
 */
import { parentPort } from 'node:worker_threads';
import { bufferOver } from '../core/bytes';
import { AppError, serializeAppError } from '../core/errors';
import { loadOpenCv } from './opencv';
import { processImage } from './pipeline';
import type { ImageThreadControl, ImageThreadReply, ImageThreadRequest } from './image-thread';

const port = parentPort!;
const queue: ImageThreadRequest[] = [];
let running = false;
let closing = false;

/** Ends this thread from inside, between two images: never inside a native codec call (see ImageThread.close). */
function exitIfClosing(): void {
  if (closing && !running) process.exit(0);
}

function cancel(req: ImageThreadRequest): void {
  port.postMessage({ id: req.id, ok: false, cancelled: true } satisfies ImageThreadReply);
}

async function handle(req: ImageThreadRequest): Promise<ImageThreadReply> {
  try {
    if (req.type === 'warm') {
      await loadOpenCv();
      return { id: req.id, ok: true };
    }
    return { id: req.id, ok: true, result: await processImage(bufferOver(req.input), req.steps, req.limits) };
  } catch (e) {
    if (e instanceof AppError) return { id: req.id, ok: false, appError: serializeAppError(e) };
    return { id: req.id, ok: false, error: { name: (e as Error)?.name ?? 'Error', message: (e as Error)?.message ?? String(e) } };
  }
}

/**
 * The result's bytes move to the main thread rather than being copied, when nothing else
 * shares their memory. Node 22 refuses to move memory a native addon owns (sharp's output is
 * an N-API external buffer: DataCloneError, which would end the thread), so it is copied.
 */
function send(reply: ImageThreadReply): void {
  const out = reply.ok && reply.result ? reply.result.output : undefined;
  if (out && out.byteOffset === 0 && out.byteLength === out.buffer.byteLength) {
    try {
      port.postMessage(reply, [out.buffer as ArrayBuffer]);
      return;
    } catch (e) {
      if ((e as Error)?.name !== 'DataCloneError') throw e;
    }
  }
  port.postMessage(reply);
}

/** Lets the messages that arrived meanwhile (new images, cancellations) be handled before the next image starts. */
const handleArrivals = () => new Promise((resolve) => setImmediate(resolve));

async function drain(): Promise<void> {
  if (running) return;
  running = true;
  await handleArrivals();
  while (queue.length) {
    const reply = await handle(queue.shift()!);
    send(reply);
    // An image holds this thread's event loop: a cancellation sent during it is only read here.
    await handleArrivals();
  }
  running = false;
  exitIfClosing();
}

port.on('message', (msg: ImageThreadRequest | ImageThreadControl) => {
  if (msg.type === 'close') {
    closing = true;
    queue.splice(0).forEach(cancel);
    exitIfClosing();
    return;
  }
  if (msg.type === 'cancel') {
    const i = queue.findIndex((q) => q.id === msg.id);
    if (i >= 0) cancel(queue.splice(i, 1)[0]);
    return;
  }
  queue.push(msg);
  void drain();
});
