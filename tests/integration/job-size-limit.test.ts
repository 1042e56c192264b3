// One submission takes up to 1,000 images (sent in SendMessageBatch calls of 10); past that, a
// 400 naming the field. A stack of its own: its queue gets a thousand messages no worker takes.
import { postJson } from '../helpers/batch';
import { getJson } from '../helpers/shared-stack';
import { scenarioStack } from '../helpers/workers';

const scenario = scenarioStack('job-size-limit', {});

test('one submission takes 1,000 images; 1,001 is a 400 naming images', async () => {
  const images = Array.from({ length: 1000 }, (_, i) => (i % 2 ? 'sample_4k.jpg' : 'misurina-sunset.jpg'));
  const res = await postJson(`${scenario.stack.url}/api/process-batch/distributed/`, { filters: ['blur'], images });
  expect(res.status).toBe(202);
  expect(res.body.task_ids).toHaveLength(1000);
  const job = (await getJson(`${scenario.stack.url}${res.body.job_url}`)).body;
  expect(job.counts).toMatchObject({ total: 1000, pending: 1000 });
  const over = await postJson(`${scenario.stack.url}/api/process-batch/distributed/`, { filters: ['blur'], images: [...images, 'sample_4k.jpg'] });
  expect(over.status).toBe(400);
  expect(over.body.error).toMatchObject({ field: 'images', message: expect.stringContaining('1 to 1000') });
}, 60_000);
