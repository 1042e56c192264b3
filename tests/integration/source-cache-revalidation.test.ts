// A worker's kept source image is used only while S3 says it is unchanged (a conditional GET
// by ETag): the same image again costs no download, a replaced one is read anew, a deleted one
// is not found. Against the real emulator.
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { closeClients } from '../../lib/core/clients';
import { NotFoundError } from '../../lib/core/errors';
import { readImage, SOURCE_PREFIX } from '../../lib/images/source';
import { SourceCache } from '../../lib/images/source-cache';
import { stackClients } from '../helpers/shared-stack';

const STATIC = path.join(__dirname, '..', '..', 'static');
const deps = stackClients();
const name = `cache-${process.pid}-${Date.now()}.jpg`;
// Buffers are compared by identity as booleans: a failing toBe between two 1 MB buffers makes
// jest build a diff for minutes.
const first = readFileSync(path.join(STATIC, 'sample_4k.jpg'));
const second = readFileSync(path.join(STATIC, 'misurina-sunset.jpg'));
const put = (bytes: Buffer) => deps.s3.send(new PutObjectCommand({ Bucket: deps.config.aws.bucket, Key: SOURCE_PREFIX + name, Body: bytes, ContentType: 'image/jpeg' }));

afterAll(async () => {
  await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.config.aws.bucket, Key: SOURCE_PREFIX + name })).catch(() => undefined);
  await closeClients(deps);
});

test('an unchanged image is served from the cache, a replaced one is read again, a deleted one is not found', async () => {
  const cache = new SourceCache(16 * 1024 * 1024);
  await put(first);

  const a = await readImage(deps, name, { cache });
  expect(a.bytes.equals(first)).toBe(true);
  expect(cache.size).toEqual({ bytes: first.length, entries: 1 });

  // 304: the very same buffer comes back, not a new download of it.
  const b = await readImage(deps, name, { cache });
  expect(b.bytes === a.bytes).toBe(true);
  expect(b.etag).toBe(a.etag);
  expect(b.contentType).toBe('image/jpeg');

  await put(second);
  const c = await readImage(deps, name, { cache });
  expect(c.bytes === a.bytes).toBe(false);
  expect(c.bytes.equals(second)).toBe(true);
  expect(c.etag).not.toBe(a.etag);
  expect(cache.size).toEqual({ bytes: second.length, entries: 1 });

  await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.config.aws.bucket, Key: SOURCE_PREFIX + name }));
  await expect(readImage(deps, name, { cache })).rejects.toBeInstanceOf(NotFoundError);
  expect(cache.size).toEqual({ bytes: 0, entries: 0 });
});

test('with the ETag a task was submitted with, a kept copy of that version is used without asking S3; another ETag asks', async () => {
  const cache = new SourceCache(16 * 1024 * 1024);
  await put(first);
  const a = await readImage(deps, name, { cache });
  // Replaced in S3 after the task was submitted with a's ETag: the kept version is the
  // submitted one, and no request is made (S3 now holds the second image).
  await put(second);
  const b = await readImage(deps, name, { cache, etag: a.etag });
  expect(b.bytes === a.bytes).toBe(true);
  expect(b.etag).toBe(a.etag);
  // A task submitted after the replacement names the new ETag: the kept copy is not it, so S3 is asked.
  const head = await deps.s3.send(new HeadObjectCommand({ Bucket: deps.config.aws.bucket, Key: SOURCE_PREFIX + name }));
  expect(head.ETag).not.toBe(a.etag);
  const c = await readImage(deps, name, { cache, etag: head.ETag });
  expect(c.bytes.equals(second)).toBe(true);
  expect(c.etag).toBe(head.ETag);
  // Without a cache the ETag changes nothing: the image as it is now.
  expect((await readImage(deps, name, { etag: a.etag })).bytes.equals(second)).toBe(true);
});

test('the byte cap is checked on a fresh read even when a smaller version was kept', async () => {
  const cache = new SourceCache(16 * 1024 * 1024);
  const small = first.subarray(0, 1000);
  await put(small);
  await readImage(deps, name, { cache, maxBytes: 10_000 });
  await put(first);
  await expect(readImage(deps, name, { cache, maxBytes: 10_000 })).rejects.toThrow(/bytes; the limit is 10000/);
  expect(cache.size.entries).toBe(0);
});
