// The worker runner's image thread (lib/filters/image-thread.ts): the same bytes as on the
// JS thread, errors that keep their class across the boundary, images one at a time in the
// order given, a queued image that can be taken back, and a thread that dies replaced.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FilterCrashedError, ImageRejectedError } from '../../lib/core/errors';
import { ImageRunCancelled, ImageThread } from '../../lib/filters/image-thread';
import { DEFAULT_LIMITS, processImage } from '../../lib/filters/pipeline';
import { parseFilterSteps } from '../../lib/filters/request';

const SAMPLE = readFileSync(path.join(__dirname, '..', '..', 'static', 'sample_4k.jpg'));
const OPENCV = parseFilterSteps(['sharpen', 'edges'], {});
const SHARP = parseFilterSteps(['resize', 'blur'], { resize: { width: 800, height: 600 } });
const thread = new ImageThread();

beforeAll(() => thread.warm(), 30_000);
afterAll(() => thread.close());

test.each([
  ['OpenCV', OPENCV],
  ['sharp', SHARP],
])('%s filters give the same bytes in the thread as on the JS thread', async (_name, steps) => {
  const [inThread, inline] = [await thread.run(SAMPLE, steps, DEFAULT_LIMITS), await processImage(SAMPLE, steps)];
  expect(Buffer.isBuffer(inThread.output)).toBe(true);
  expect(inThread.output.equals(inline.output)).toBe(true);
  expect(inThread.thread_id).not.toBe(inline.thread_id);
  // The caller's input is copied, not moved: it can still be read (the worker keeps it in its source cache).
  expect(SAMPLE.length).toBeGreaterThan(0);
  expect(SAMPLE.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
}, 30_000);

test('an undecodable image is an ImageRejectedError on this side too, so a consumer does not retry it', async () => {
  const err = await thread.run(Buffer.from('not an image at all'), OPENCV, DEFAULT_LIMITS).catch((e) => e);
  expect(err).toBeInstanceOf(ImageRejectedError);
  expect(err).toMatchObject({ code: 'image_rejected', status: 422, retryable: false });
  // The thread is still there for the next image.
  await expect(thread.run(SAMPLE, SHARP, DEFAULT_LIMITS)).resolves.toMatchObject({ width: 800, height: 600 });
}, 30_000);

test('images run in the order given, and one still queued can be taken back', async () => {
  const ended: string[] = [];
  const abort = new AbortController();
  const runs = [
    thread.run(SAMPLE, OPENCV, DEFAULT_LIMITS).then(() => ended.push('first')),
    thread.run(SAMPLE, OPENCV, DEFAULT_LIMITS, abort.signal).then(() => ended.push('cancelled')),
    thread.run(SAMPLE, SHARP, DEFAULT_LIMITS).then(() => ended.push('third')),
  ];
  // The first image holds the thread for tens of ms; the second is still in its queue.
  abort.abort();
  const settled = await Promise.allSettled(runs);
  expect(settled[1]).toMatchObject({ status: 'rejected', reason: expect.any(ImageRunCancelled) });
  expect(ended).toEqual(['first', 'third']);
}, 30_000);

test('a thread that goes away fails what it held as retryable, and the next image gets a new thread', async () => {
  // A thread dies by itself only from causes a test cannot call up (out of memory, a crash),
  // so it is stopped from outside: while idle, since one stopped inside an image takes the
  // process with it (image-thread-close.test.ts). The image handed over then is never started.
  await thread.warm();
  const dying = thread['worker']!;
  void dying.terminate();
  const held = thread.run(SAMPLE, OPENCV, DEFAULT_LIMITS).catch((e) => e);
  const err = await held;
  expect(err).toBeInstanceOf(FilterCrashedError);
  expect(err.retryable).toBe(true);
  await expect(thread.run(SAMPLE, SHARP, DEFAULT_LIMITS)).resolves.toMatchObject({ width: 800, height: 600 });
}, 30_000);
