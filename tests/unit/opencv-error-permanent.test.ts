// An OpenCV exception is deterministic for the pixels and parameters that raised it, so it
// surfaces as a typed, non-retryable error: a worker fails the task at once instead of
// sending it round the queue until it is dead-lettered.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AppError, FilterCrashedError, FilterFailedError } from '../../lib/core/errors';
import { decode, DEFAULT_LIMITS } from '../../lib/filters/pipeline';
import { runOpenCv } from '../../lib/filters/opencv-executor';

const SAMPLE = readFileSync(path.join(__dirname, '..', '..', 'static', 'sample_4k.jpg'));

test('a cv::Exception is a FilterFailedError, not retryable, with the OpenCV message', async () => {
  const img = await decode(SAMPLE, DEFAULT_LIMITS);
  const failing = runOpenCv(img, [
    (cv, src, track) => {
      const dst = track(new cv.Mat());
      cv.cvtColor(src, dst, cv.COLOR_GRAY2RGB); // src has 3 channels: OpenCV refuses, every time
      return { mat: dst, channels: 3 };
    },
  ]);
  const e = await failing.catch((x: unknown) => x);
  expect(e).toBeInstanceOf(FilterFailedError);
  expect(e).toBeInstanceOf(AppError);
  expect(e).toMatchObject({ retryable: false, code: 'filter_failed', status: 422 });
  expect((e as Error).message).toMatch(/^OpenCV failed: .*(scn|channel|Invalid)/i);
}, 60_000);

test('an error that is not an OpenCV exception is a retryable FilterCrashedError, which a worker retries', async () => {
  const img = await decode(SAMPLE, DEFAULT_LIMITS);
  const e = await runOpenCv(img, [() => { throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded'); }]).catch((x: unknown) => x);
  expect(e).toBeInstanceOf(FilterCrashedError);
  expect((e as AppError).retryable).toBe(true);
  expect((e as Error).message).toMatch(/^OpenCV failed: WebAssembly.Memory.grow/);
}, 60_000);
