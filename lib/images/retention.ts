/**
 * Retention for a bucket without lifecycle rules (the local stack's emulator): the same
 * expiry the aws stage's bucket applies by itself (scripts/aws/stack.ts lifecycleRules), run
 * by npm start's housekeeping.
 */
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { Clients } from '../core/clients';
import { dependency } from '../core/dependencies';

/** DeleteObjects takes at most 1,000 keys per call; ListObjectsV2 pages hold as many. */
const PAGE = 1000;

/** Deletes the objects under `prefix` last modified before `before`; how many it deleted. */
export async function expireObjects(deps: Clients, prefix: string, before: Date): Promise<number> {
  const Bucket = deps.config.aws.bucket;
  let deleted = 0;
  let ContinuationToken: string | undefined;
  do {
    const page = await dependency('s3', () => deps.s3.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, MaxKeys: PAGE, ContinuationToken })));
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    const expired = (page.Contents ?? []).filter((o) => o.Key && o.LastModified && o.LastModified < before).map((o) => ({ Key: o.Key! }));
    if (expired.length) {
      await dependency('s3', () => deps.s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: expired, Quiet: true } })));
      deleted += expired.length;
    }
  } while (ContinuationToken);
  return deleted;
}
