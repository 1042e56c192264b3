/**
 * The embedded emulator's bucket on disk (scripts/local/disk-s3-store.mjs), over the real S3
 * wire protocol: objects, listings, ranges, multipart uploads and presigned PUT/GET behave as
 * S3 does, survive a SIGKILL of the emulator byte for byte, and live only under its folder;
 * a write that a killed emulator left half-done is discarded, never served.
 */
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, spawnCollected, waitFor } from '../../scripts/local/processes';
import { ROOT } from '../helpers/stack';

const BUCKET = 'disk-store';
let dataDir: string;
let port: number;
let emulator: ReturnType<typeof spawnCollected> | undefined;
let s3: S3Client;

async function startEmulator() {
  emulator = spawnCollected(process.execPath, [path.join(ROOT, 'scripts', 'emulator.mjs'), String(port), '127.0.0.1'], { env: { ...process.env, EMULATOR_DATA_DIR: dataDir } });
  await waitFor('emulator', 15_000, async () => ((await fetch(`http://127.0.0.1:${port}/health`)).ok ? true : undefined), 100);
}

async function body(key: string, range?: string): Promise<Buffer> {
  const res = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key, Range: range }));
  return Buffer.from(await res.Body!.transformToByteArray());
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'emulator-disk-store-'));
  port = await freePort();
  s3 = new S3Client({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  await startEmulator();
});
afterAll(() => {
  emulator?.child.kill('SIGKILL');
  s3?.destroy();
  rmSync(dataDir, { recursive: true, force: true });
});

test('objects, listings, ranges, multipart and presigned URLs survive a SIGKILL of the emulator', async () => {
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const objects: Record<string, Buffer> = {
    'source/photo.jpg': randomBytes(300_000),
    'processed/t1/a.png': randomBytes(1000),
    'processed/t2/b.webp': randomBytes(2000),
    // Keys that would name other paths if used as file names stay inside the folder.
    '../../outside.txt': Buffer.from('not outside'),
    'processed/ünïcode ключ/c.jpg': Buffer.from('unicode'),
  };
  for (const [Key, Body] of Object.entries(objects)) await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body, ContentType: 'image/x-test', Metadata: { origin: 'test' } }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'processed/t3/gone.jpg', Body: Buffer.from('x') }));
  await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'processed/t3/gone.jpg' }));

  // A multipart upload: 5 MiB + 1 MiB parts.
  const parts = [randomBytes(5 * 2 ** 20), randomBytes(2 ** 20)];
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'uploads/big.bin', ContentType: 'application/octet-stream' }));
  const etags = [];
  for (const [i, Body] of parts.entries()) etags.push((await s3.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'uploads/big.bin', UploadId, PartNumber: i + 1, Body }))).ETag!);
  const completed = await s3.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'uploads/big.bin', UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
  expect(completed.ETag).toMatch(/^"[0-9a-f]{32}-2"$/);
  objects['uploads/big.bin'] = Buffer.concat(parts);

  // Presigned PUT, then presigned GET.
  const signedBody = randomBytes(50_000);
  const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: BUCKET, Key: 'uploads/signed.jpg', ContentType: 'image/jpeg' }), { expiresIn: 300 });
  expect((await fetch(putUrl, { method: 'PUT', headers: { 'content-type': 'image/jpeg' }, body: new Uint8Array(signedBody) })).status).toBe(200);
  objects['uploads/signed.jpg'] = signedBody;

  const before = (await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents!.map((o) => [o.Key, o.Size, o.ETag]);
  expect(before.map(([k]) => k)).toEqual(Object.keys(objects).sort());

  // SIGKILL with a write caught half-way: a partial file in the emulator's temporary folder.
  emulator!.child.kill('SIGKILL');
  await emulator!.exited;
  writeFileSync(path.join(dataDir, '.tmp', 'half-written'), randomBytes(1000));
  await startEmulator();

  expect((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))).Contents!.map((o) => [o.Key, o.Size, o.ETag])).toEqual(before);
  for (const [key, bytes] of Object.entries(objects)) expect({ key, same: (await body(key)).equals(bytes) }).toEqual({ key, same: true });
  const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'source/photo.jpg' }));
  expect([head.ContentType, head.ContentLength, head.Metadata]).toEqual(['image/x-test', 300_000, { origin: 'test' }]);
  expect((await body('source/photo.jpg', 'bytes=100-199')).equals(objects['source/photo.jpg'].subarray(100, 200))).toBe(true);
  const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: BUCKET, Key: 'uploads/signed.jpg' }), { expiresIn: 300 });
  expect(Buffer.from(await (await fetch(getUrl)).arrayBuffer()).equals(signedBody)).toBe(true);
  await expect(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'processed/t3/gone.jpg' }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });

  // Listing by prefix and delimiter, page by page.
  const top = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'processed/', Delimiter: '/' }));
  expect(top.CommonPrefixes!.map((p) => p.Prefix)).toEqual(['processed/t1/', 'processed/t2/', 'processed/ünïcode ключ/']);
  const page1 = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 3 }));
  const page2 = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 10, ContinuationToken: page1.NextContinuationToken }));
  expect([...page1.Contents!, ...page2.Contents!].map((o) => o.Key)).toEqual(Object.keys(objects).sort());

  // Everything is under the data folder, nothing half-written is left, and no key named a path.
  expect(readdirSync(path.join(dataDir, '.tmp'))).toEqual([]);
  expect(readdirSync(path.dirname(dataDir)).filter((f) => f === 'outside.txt')).toEqual([]);
  const files = filesUnder(dataDir);
  expect(files.every((f) => f.startsWith(dataDir + path.sep))).toBe(true);
  const stored = files.filter((f) => f.includes(`${path.sep}objects${path.sep}`));
  expect(stored.length).toBe(Object.keys(objects).length);
  expect(stored.every((f) => /[0-9a-f]{64}$/.test(f) && statSync(f).size > 0)).toBe(true);
}, 120_000);
