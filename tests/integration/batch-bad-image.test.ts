/**
 * An image in the bucket that cannot be decoded (here: a truncated JPEG, its header intact)
 * is refused with the same 422 by every batch strategy: the multiprocessing one runs it in a
 * pool thread, whose errors used to cross back as plain Errors (500).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { closeClients } from '../../lib/core/clients';
import { postJson } from '../helpers/batch';
import { sharedStack, stackClients } from '../helpers/shared-stack';
import { runId } from '../helpers/stack';

const { url } = sharedStack();
const deps = stackClients();
const name = `${runId()}-truncated.jpg`;
const sample = readFileSync(path.join(__dirname, '..', '..', 'static', 'sample_4k.jpg'));

beforeAll(() => deps.s3.send(new PutObjectCommand({ Bucket: deps.config.aws.bucket, Key: `source/${name}`, Body: sample.subarray(0, sample.length / 2), ContentType: 'image/jpeg' })));
afterAll(async () => {
  await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.config.aws.bucket, Key: `source/${name}` }));
  await closeClients(deps);
});

test.each(['sequential', 'threading', 'multiprocessing'])('POST %s on a truncated image → 422 naming why', async (strategy) => {
  const res = await postJson(`${url}/api/process-batch/${strategy}/`, { filters: ['sharpen', 'edges'], images: [name] });
  expect({ strategy, status: res.status }).toEqual({ strategy, status: 422 });
  expect(res.body.error.message).toMatch(/could not be decoded/);
}, 60_000);
