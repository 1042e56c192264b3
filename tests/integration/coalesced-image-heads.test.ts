// Concurrent HEADs of one source image (a burst of submissions of it) make one S3 call and
// share its answer, a missing image included; a HEAD that starts after it settled asks again.
import { closeClients } from '../../lib/core/clients';
import { NotFoundError } from '../../lib/core/errors';
import { headImage } from '../../lib/images/source';
import { recordCalls } from '../helpers/sdk-calls';
import { stackClients } from '../helpers/shared-stack';

const deps = stackClients();
afterAll(() => closeClients(deps));

test('a burst of HEADs of one image is one call; the next HEAD after it is another', async () => {
  const heads = recordCalls(deps.s3, 'HeadObjectCommand');
  const answers = await Promise.all(Array.from({ length: 16 }, () => headImage(deps, 'sample_4k.jpg')));
  expect(heads).toHaveLength(1);
  expect(new Set(answers.map((a) => a.ETag)).size).toBe(1);
  expect(answers[0].ContentLength).toBeGreaterThan(1000);

  // Two images at once: one call each.
  await Promise.all([headImage(deps, 'sample_4k.jpg'), headImage(deps, 'misurina-sunset.jpg'), headImage(deps, 'misurina-sunset.jpg')]);
  expect(heads).toHaveLength(3);
});

test('a missing image is a NotFoundError for every caller that shared the HEAD', async () => {
  const results = await Promise.allSettled(Array.from({ length: 3 }, () => headImage(deps, 'no-such-image.jpg')));
  for (const r of results) {
    expect(r.status).toBe('rejected');
    expect((r as PromiseRejectedResult).reason).toBeInstanceOf(NotFoundError);
  }
});
