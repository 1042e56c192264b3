// output {format, quality} through the real paths: a job's results and a batch's results are
// stored in the requested format, their key's extension, Content-Type and reported format
// agree, and bad output settings are 400s naming the field that enqueue nothing.
import { GetObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { closeClients } from '../../lib/core/clients';
import { waitFor } from '../../scripts/local/processes';
import { postJson } from '../helpers/batch';
import { getJson, stackClients } from '../helpers/shared-stack';
import { scenarioStack } from '../helpers/workers';

const scenario = scenarioStack('output-formats', { POLL_WAIT_S: '1' }, ['worker-3']);

async function stored(key: string) {
  const deps = stackClients(scenario.stack);
  try {
    const obj = await deps.s3.send(new GetObjectCommand({ Bucket: deps.config.aws.bucket, Key: key }));
    const bytes = Buffer.from(await obj.Body!.transformToByteArray());
    return { contentType: obj.ContentType, meta: await sharp(bytes).metadata() };
  } finally {
    await closeClients(deps);
  }
}

test('a job with output webp: every result is a WebP, under .webp, served as image/webp', async () => {
  const url = scenario.stack.url;
  const res = await postJson(`${url}/api/process-batch/distributed/`, {
    filters: ['resize', 'sharpen'],
    filter_params: { resize: { width: 320, height: 200 } },
    images: ['sample_4k.jpg', 'misurina-sunset.jpg', 'sample_4k.jpg'],
    output: { format: 'webp', quality: 60 },
  });
  expect(res.status).toBe(202);
  const job = await waitFor('the job to complete', 60_000, async () => {
    const j = (await getJson(`${url}${res.body.job_url}`)).body;
    return j.status === 'completed' ? j : undefined;
  }, 100);
  expect(job.results).toHaveLength(3);
  for (const r of job.results) {
    expect(r.format).toBe('webp');
    expect(r.key).toMatch(/\.webp$/);
    const { contentType, meta } = await stored(r.key);
    expect(contentType).toBe('image/webp');
    expect(meta).toMatchObject({ format: 'webp', width: 320, height: 200 });
  }
  const task = (await getJson(`${url}/api/task/${res.body.task_ids[0]}/status/`)).body;
  expect(task.output).toEqual({ format: 'webp', quality: 60, keepMetadata: false });
  expect(task.result.key).toMatch(/\.webp$/);
}, 90_000);

test('a batch with output png stores PNGs and says so per result', async () => {
  const res = await postJson(`${scenario.stack.url}/api/process-batch/sequential/`, { filters: ['blur'], images: ['misurina-sunset.jpg'], output: { format: 'png' } });
  expect(res.status).toBe(200);
  for (const r of res.body.results) {
    expect(r.format).toBe('png');
    expect(r.key).toMatch(/\.png$/);
    const { contentType, meta } = await stored(r.key);
    expect(contentType).toBe('image/png');
    expect(meta.format).toBe('png');
  }
}, 60_000);

test.each([
  [{ format: 'gif' }, 'output.format'],
  [{ format: 'webp', quality: 0 }, 'output.quality'],
  [{ format: 'avif', keep_metadata: true }, 'output.keep_metadata'],
  ['webp', 'output'],
])('output %j is a 400 naming %s, and no job is made', async (output, field) => {
  const url = scenario.stack.url;
  const before = (await getJson(`${url}/api/jobs/?limit=1`)).body.jobs[0]?.job_id;
  const res = await postJson(`${url}/api/process-batch/distributed/`, { filters: ['blur'], output });
  expect(res.status).toBe(400);
  expect(res.body.error.field).toBe(field);
  expect((await getJson(`${url}/api/jobs/?limit=1`)).body.jobs[0]?.job_id).toBe(before);
  const batch = await postJson(`${url}/api/process-batch/sequential/`, { filters: ['blur'], output });
  expect(batch.status).toBe(400);
  expect(batch.body.error.field).toBe(field);
});
