// A worker keeps the source images it read (WORKER_SOURCE_CACHE_MB) but asks S3 on every task
// whether the image changed: a task on an image replaced since the last one processes the new
// image, never the kept one.
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { closeClients } from '../../lib/core/clients';
import { SOURCE_PREFIX } from '../../lib/images/source';
import { stackClients } from '../helpers/shared-stack';
import { scenarioStack, submit, terminal, waitForTask } from '../helpers/workers';

const scenario = scenarioStack('replaced-source', { HEARTBEAT_INTERVAL_S: '1', POLL_WAIT_S: '1' }, ['worker-1']);
const STATIC = path.join(__dirname, '..', '..', 'static');

test('a task on a replaced image processes the new image, the one after it the same again', async () => {
  const deps = stackClients(scenario.stack);
  const image = 'replaced-source.jpg';
  const put = (file: string) =>
    deps.s3.send(new PutObjectCommand({ Bucket: deps.config.aws.bucket, Key: SOURCE_PREFIX + image, Body: readFileSync(path.join(STATIC, file)), ContentType: 'image/jpeg' }));
  const run = async () => {
    const [id] = await submit(scenario.stack, { images: [image], filters: ['brightness'] });
    const t = await waitForTask(scenario.stack, id, terminal);
    expect(t.status).toBe('completed');
    return [t.result.width, t.result.height];
  };
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
