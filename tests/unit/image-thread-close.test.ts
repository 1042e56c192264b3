// Closing the worker runner's image thread (it does at SIGTERM) while it works: the running
// image finishes and is returned, queued ones come back cancelled, and the process lives on.
// close() used to stop the thread by force, and one stopped inside a libjpeg-turbo call took
// the whole process down ("terminate called after throwing an instance of 'Napi::Error'").
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sleep } from '../../lib/core/time';
import { ImageRunCancelled, ImageThread } from '../../lib/filters/image-thread';
import { DEFAULT_LIMITS } from '../../lib/filters/pipeline';
import { parseFilterSteps } from '../../lib/filters/request';

const SAMPLE = readFileSync(path.join(__dirname, '..', '..', 'static', 'sample_4k.jpg'));
const OPENCV = parseFilterSteps(['sharpen', 'edges'], {});
const thread = new ImageThread();

afterAll(() => thread.close());

/** A run's width, or what it rejected with. */
const outcome = (run: Promise<{ width: number }>) => run.then((r) => r.width, (e: unknown) => e);

test('closing while one image runs and one waits: the first is finished, the second handed back, nothing crashes', async () => {
  let finishedInsideClose = 0;
  // Closes land from before the first image starts to well inside it (~60-100 ms).
  for (let i = 0; i < 20; i++) {
    await thread.warm();
    const first = outcome(thread.run(SAMPLE, OPENCV, DEFAULT_LIMITS));
    const second = outcome(thread.run(SAMPLE, OPENCV, DEFAULT_LIMITS));
    await sleep(i * 3);
    await thread.close();
    const [a, b] = await Promise.all([first, second]);
    // Finished, or taken back before it started: never failed as a crashed thread.
    for (const o of [a, b]) expect(o === 3840 || o instanceof ImageRunCancelled).toBe(true);
    if (a === 3840) finishedInsideClose++;
  }
  // The case that used to abort the process did happen: a close arriving during an image.
  expect(finishedInsideClose).toBeGreaterThan(0);
  // And the next image gets a new thread.
  await expect(thread.run(SAMPLE, OPENCV, DEFAULT_LIMITS)).resolves.toMatchObject({ width: 3840 });
}, 120_000);
