// The seed's "Testing Job Failure vs Worker Failure", as written.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { closeClients } from '../../lib/core/clients';
import { fetchResult } from '../helpers/batch';
import { stackClients } from '../helpers/shared-stack';
import { startStack, type RunningStack } from '../helpers/stack';
import { startWorker, submit, fetchTaskStatus, waitForTask, terminal, type WorkerProcess } from '../helpers/workers';
import { sleep } from '../../lib/core/time';

let stack: RunningStack;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  stack = await startStack({ HEARTBEAT_INTERVAL_S: '1', POLL_WAIT_S: '1' }, 'seed-failures');
}, 120_000);
afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  await stack?.stop();
});

test('worker failure: with no worker the task stays pending, then a starting worker processes it', async () => {
  const [id] = await submit(stack, { filters: ['resize'] });
  await sleep(1500);
  const waiting = await fetchTaskStatus(stack, id);
  expect({ status: waiting.status, explanation: waiting.explanation }).toEqual({ status: 'pending', explanation: 'No workers available to process task' });
  expect(waiting.attempts).toBe(0);

  workers.push(await startWorker(stack, 'worker-1'));
  const done = await waitForTask(stack, id, terminal);
  expect(done.status).toBe('completed');
  expect(done.worker_id).toBe('worker-1');
  expect(done.attempts).toBe(1);
  expect(done.result.key).toBe(`processed/${id}/sample_4k.jpg`);
  expect(done.queue_wait_ms).toBeGreaterThanOrEqual(1500);
  expect(done.processing_ms).toBeGreaterThan(0);
  expect(done.filter_ms.map((f: { name: string }) => f.name)).toEqual(['resize']);
  for (const f of ['queued_at', 'started_at', 'finished_at']) expect(Date.parse(done[f])).toBeGreaterThan(0);
  // The result is in S3 and decodes at the seed's default resize.
  const deps = stackClients(stack);
  const { meta } = await fetchResult(deps, done.result.key);
  expect([meta.width, meta.height]).toEqual([800, 600]);
  const viaUrl = await sharp(Buffer.from(await (await fetch(done.result.url)).arrayBuffer())).metadata();
  expect([viaUrl.width, viaUrl.height]).toEqual([800, 600]);
  await closeClients(deps);
}, 60_000);

test('job failure: worker-1 takes a sharpen task it cannot handle; the task fails and is lost', async () => {
  const [id] = await submit(stack, { filters: ['sharpen'] });
  const t = await waitForTask(stack, id, terminal);
  expect({ status: t.status, failure_type: t.failure_type, failure_reason: t.failure_reason, error: t.error }).toEqual({
    status: 'failed',
    failure_type: 'job_failure',
    failure_reason: 'worker_capability_mismatch',
    error: "Worker worker-1 cannot handle filters: ['sharpen']",
  });
  expect(t.explanation).toMatch(/worker took the task but cannot handle the requested filter/i);
  expect(t.result).toBeNull();
  // Lost for good: its message was deleted, nothing is left to redeliver.
  await sleep(1500);
  expect((await fetchTaskStatus(stack, id)).attempts).toBe(1);
}, 60_000);

test('an undecodable image fails at once as a job failure with the reason, and is not retried', async () => {
  const deps = stackClients(stack);
  // Put straight into the bucket, past the upload checks, as a corrupted object would be.
  await deps.s3.send(new PutObjectCommand({ Bucket: deps.config.aws.bucket, Key: 'source/corrupt.jpg', Body: Buffer.from('not really a jpeg'), ContentType: 'image/jpeg' }));
  const [id] = await submit(stack, { filters: ['resize'], images: ['corrupt.jpg'] });
  const t = await waitForTask(stack, id, terminal);
  expect(t).toMatchObject({ status: 'failed', failure_type: 'job_failure', failure_reason: 'image_rejected', attempts: 1 });
  expect(t.error).toMatch(/could not be decoded/);
  await sleep(2500);
  expect((await fetchTaskStatus(stack, id)).attempts).toBe(1);
  await closeClients(deps);
}, 60_000);
