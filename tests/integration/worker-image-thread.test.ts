// A worker can process its images in a thread of its own (WORKER_IMAGE_THREAD=true), so
// its SQS, S3 and Redis calls run beside the next image. The pixels must not depend on it:
// the same task gives the same stored bytes with the thread and without it, and an
// undecodable image fails the task the same way (rejected, not retried) on both paths.
import { closeClients, type Clients } from '../../lib/core/clients';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SOURCE_PREFIX } from '../../lib/images/source';
import { stackClients } from '../helpers/shared-stack';
import { scenarioStack, startWorker, submit, terminal, waitForTask } from '../helpers/workers';

const scenario = scenarioStack('worker-image-thread', { POLL_WAIT_S: '1' });
let deps: Clients;

beforeAll(() => {
  deps = stackClients(scenario.stack);
});
afterAll(async () => {
  await closeClients(deps);
});

async function runOne(env: Record<string, string>, name: string, body: unknown) {
  const worker = await startWorker(scenario.stack, name, { WORKER_CAPABILITIES: 'all', ...env });
  scenario.workers.push(worker);
  try {
    const [id] = await submit(scenario.stack, body);
    return await waitForTask(scenario.stack, id, terminal, 60_000);
  } finally {
    expect(await worker.stop('SIGTERM')).toBe(0);
  }
}

async function resultBytes(task: { result: { url: string } }): Promise<Buffer> {
  const res = await fetch(task.result.url);
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

test('the same task stores the same bytes with the image thread and without it', async () => {
  const body = { filters: ['sharpen', 'edges', 'resize'], filter_params: { resize: { width: 1280, height: 720 } } };
  const threaded = await runOne({ WORKER_IMAGE_THREAD: 'true' }, 'worker-threaded', body);
  const inline = await runOne({ WORKER_IMAGE_THREAD: 'false' }, 'worker-inline', body);
  for (const t of [threaded, inline]) expect(t).toMatchObject({ status: 'completed', attempts: 1, result: { width: 1280, height: 720 } });
  const [a, b] = await Promise.all([resultBytes(threaded), resultBytes(inline)]);
  expect(a.length).toBeGreaterThan(10_000);
  expect(a.equals(b)).toBe(true);
}, 120_000);

test('an undecodable image fails its task as rejected, once, on both paths', async () => {
  // The upload endpoint would refuse these bytes; put them in the bucket directly, as another writer could.
  await deps.s3.send(new PutObjectCommand({ Bucket: deps.config.aws.bucket, Key: `${SOURCE_PREFIX}not-really.jpg`, Body: Buffer.from('this is not a JPEG'), ContentType: 'image/jpeg' }));
  for (const [env, name] of [[{ WORKER_IMAGE_THREAD: 'true' }, 'worker-threaded-bad'], [{ WORKER_IMAGE_THREAD: 'false' }, 'worker-inline-bad']] as const) {
    const t = await runOne(env, name, { filters: ['edges'], images: ['not-really.jpg'] });
    expect(t).toMatchObject({ status: 'failed', attempts: 1 });
    expect(t.error).toMatch(/image|decode|JPEG/i);
  }
}, 120_000);
