// A worker keeps the source images it read (WORKER_SOURCE_CACHE_MB). A task carries the ETag its
// image had when it was submitted: a task submitted after the image was replaced processes the
// new image, never the kept one; a task submitted before, while the worker still holds that
// version, processes the image it was submitted on.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { closeClients } from '../../lib/core/clients';
import { SOURCE_PREFIX } from '../../lib/images/source';
import { stackClients } from '../helpers/shared-stack';
import { scenarioStack, submit, terminal, waitForTask } from '../helpers/workers';

const scenario = scenarioStack('replaced-source', { HEARTBEAT_INTERVAL_S: '1', POLL_WAIT_S: '1' }, ['worker-1']);
const STATIC = path.join(__dirname, '..', '..', 'static');

const putImage = (deps: ReturnType<typeof stackClients>, image: string, file: string) =>
  deps.s3.send(new PutObjectCommand({ Bucket: deps.config.aws.bucket, Key: SOURCE_PREFIX + image, Body: readFileSync(path.join(STATIC, file)), ContentType: 'image/jpeg' }));

async function finished(id: string): Promise<[number, number]> {
  const t = await waitForTask(scenario.stack, id, terminal);
  expect(t.status).toBe('completed');
  return [t.result.width, t.result.height];
}

test('a task on a replaced image processes the new image, the one after it the same again', async () => {
  const deps = stackClients(scenario.stack);
  const image = 'replaced-source.jpg';
  const put = (file: string) => putImage(deps, image, file);
  const run = async () => finished((await submit(scenario.stack, { images: [image], filters: ['brightness'] }))[0]);
  try {
    await put('sample_4k.jpg');
    expect(await run()).toEqual([3840, 2160]);
    expect(await run()).toEqual([3840, 2160]);
    await put('misurina-sunset.jpg');
    expect(await run()).toEqual([4272, 2848]);
    expect(await run()).toEqual([4272, 2848]);
  } finally {
    await closeClients(deps);
  }
}, 90_000);

test('a task submitted before its image was replaced processes the version it was submitted on, which the worker kept', async () => {
  const deps = stackClients(scenario.stack);
  const image = 'replaced-after-submit.jpg';
  const worker = scenario.workers[0].child;
  const submitTask = async () => (await submit(scenario.stack, { images: [image], filters: ['brightness'] }))[0];
  try {
    await putImage(deps, image, 'sample_4k.jpg');
    expect(await finished(await submitTask())).toEqual([3840, 2160]);
    // The worker, holding the 4K image, is paused (well within its heartbeat expiry) while a
    // task is submitted on that version and the image is then replaced.
    worker.kill('SIGSTOP');
    let submitted: string;
    try {
      submitted = await submitTask();
      await putImage(deps, image, 'misurina-sunset.jpg');
    } finally {
      worker.kill('SIGCONT');
    }
    expect(await finished(submitted)).toEqual([3840, 2160]);
    // Submitted after the replacement: the new version.
    expect(await finished(await submitTask())).toEqual([4272, 2848]);
  } finally {
    await closeClients(deps);
  }
}, 90_000);
