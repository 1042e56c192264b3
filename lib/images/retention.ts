/**
 * Retention for a bucket without lifecycle rules (the local stack's emulator): the same
 * expiry the aws stage's bucket applies by itself (scripts/aws/stack.ts lifecycleRules), run
 * by npm start's housekeeping; and the listing that recovery checks stored results against.
 */
import { DeleteObjectsCommand, ListObjectsV2Command, type _Object } from '@aws-sdk/client-s3';
import type { Clients } from '../core/clients';
import { dependency } from '../core/dependencies';

/** DeleteObjects takes at most 1,000 keys per call; ListObjectsV2 pages hold as many. */
const PAGE = 1000;

/** The objects under `prefix`, a page (up to 1,000) at a time. */
async function* listPages(deps: Clients, prefix: string): AsyncGenerator<_Object[]> {
  const Bucket = deps.config.aws.bucket;
  let ContinuationToken: string | undefined;
  do {
    const page = await dependency('s3', () => deps.s3.send(new ListObjectsV2Command({ Bucket, Prefix: prefix, MaxKeys: PAGE, ContinuationToken })));
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    yield page.Contents ?? [];
  } while (ContinuationToken);
}

/** Deletes the objects under `prefix` last modified before `before`; how many it deleted. */
export async function expireObjects(deps: Clients, prefix: string, before: Date): Promise<number> {
  let deleted = 0;
  for await (const objects of listPages(deps, prefix)) {
    const expired = objects.filter((o) => o.Key && o.LastModified && o.LastModified < before).map((o) => ({ Key: o.Key! }));
    if (expired.length) {
      await dependency('s3', () => deps.s3.send(new DeleteObjectsCommand({ Bucket: deps.config.aws.bucket, Delete: { Objects: expired, Quiet: true } })));
      deleted += expired.length;
    }
  }
  return deleted;
}

/** Every key under `prefix`. */
export async function listKeys(deps: Clients, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const objects of listPages(deps, prefix)) for (const o of objects) if (o.Key) keys.push(o.Key);
  return keys;
}
