import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { postJson } from '../helpers/batch';
import { getJson } from '../helpers/shared-stack';
import { ROOT, startStack, type RunningStack } from '../helpers/stack';

// A stack of its own: uploads add to the bucket, which other files expect to hold the samples only.
let stack: RunningStack;
let url: string;
beforeAll(async () => {
  stack = await startStack({}, 'uploads');
  url = stack.url;
}, 120_000);
afterAll(() => stack?.stop());
const SAMPLE = readFileSync(path.join(ROOT, 'static', 'sample_4k.jpg'));
const upload = (name: string, body: Buffer | string, type = 'application/octet-stream') =>
  fetch(`${url}/api/images/?name=${encodeURIComponent(name)}`, { method: 'POST', headers: { 'content-type': type }, body: typeof body === 'string' ? body : new Uint8Array(body) }).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
const unique = (ext: string) => `u-${randomUUID().slice(0, 8)}.${ext}`;
const listed = async () => ((await getJson(`${url}/api/images/`)).body.images as { name: string }[]).map((i) => i.name);

test('a real PNG is verified, stored under source/, listed, and usable in batches', async () => {
  const png = await sharp(SAMPLE).resize(640, 360).png().toBuffer();
  const name = unique('png');
  const res = await upload(name, png);
  expect(res.status).toBe(201);
  expect(res.body).toMatchObject({ name, format: 'png', width: 640, height: 360, bytes: png.length, key: `source/${name}` });
  expect(await listed()).toContain(name);
  const info = await getJson(`${url}/api/image/info/?name=${name}`);
  expect(info.body).toMatchObject({ width: 640, height: 360, format: 'png' });
  const batch = await postJson(`${url}/api/process-batch/sequential/`, { filters: ['blur'], images: [name] });
  expect(batch.status).toBe(200);
  expect(batch.body.results[0]).toMatchObject({ image: name, width: 640, height: 360 });
  const dist = await postJson(`${url}/api/process-batch/distributed/`, { filters: ['blur'], images: [name] });
  expect(dist.status).toBe(202);
  // A second upload under the same name is refused unless asked to overwrite.
  expect((await upload(name, png)).status).toBe(409);
});

test.each([
  ['a truncated JPEG', () => SAMPLE.subarray(0, 200_000), 'jpg', 422, /truncated or corrupt/],
  ['text named .jpg', () => Buffer.from('just some text, honestly'), 'jpg', 422, /not an image/],
  ['a PNG named .jpg', () => sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } }).png().toBuffer(), 'jpg', 400, /ends in \.jpg but the file is png/],
  ['a 100 MP bomb', () => sharp({ create: { width: 10_000, height: 10_000, channels: 3, background: '#000' } }).png({ compressionLevel: 9 }).toBuffer(), 'png', 422, /limit is 50000000/],
  ['a GIF', () => sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } }).gif().toBuffer(), 'png', 422, /gif images are not accepted/],
])('%s is refused with the reason and nothing is stored', async (_what, make, ext, status, message) => {
  const name = unique(ext);
  const res = await upload(name, await make());
  expect(res.status).toBe(status);
  expect(res.body.error.message).toMatch(message);
  expect(await listed()).not.toContain(name);
});

test('wrong content type, empty body, bad names are 4xx', async () => {
  expect((await upload(unique('jpg'), SAMPLE, 'image/jpeg')).status).toBe(415);
  expect((await upload(unique('jpg'), Buffer.alloc(0))).status).toBe(400);
  for (const bad of ['../../etc/passwd.jpg', 'a/b.jpg', 'x.exe']) {
    const res = await upload(bad, SAMPLE);
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe('name');
  }
});

test('bigger files: a presigned PUT signed for the declared size and type, then complete verifies and stores', async () => {
  const name = unique('jpg');
  const start = await postJson(`${url}/api/images/uploads/`, { name, bytes: SAMPLE.length });
  expect(start.status).toBe(201);
  expect(start.body.headers).toEqual({ 'Content-Type': 'image/jpeg', 'Content-Length': String(SAMPLE.length) });
  // S3 checks the signature over these headers: a body of another size or type is refused on AWS.
  expect(new URL(start.body.url).searchParams.get('X-Amz-SignedHeaders')!.split(';')).toEqual(expect.arrayContaining(['content-length', 'content-type', 'host']));
  const put = await fetch(start.body.url, { method: 'PUT', headers: start.body.headers, body: new Uint8Array(SAMPLE) });
  expect(put.ok).toBe(true);
  const done = await postJson(`${url}${start.body.complete_url}`, { name });
  expect(done.status).toBe(201);
  expect(done.body).toMatchObject({ name, width: 3840, height: 2160, format: 'jpeg' });
  expect(await listed()).toContain(name);
  // The staged copy is gone: completing twice finds nothing.
  expect((await postJson(`${url}${start.body.complete_url}`, { name })).status).toBe(404);
  expect((await postJson(`${url}/api/images/uploads/not-an-id/complete/`, { name })).status).toBe(400);
});

test('a large upload must declare its size, within MAX_INPUT_BYTES', async () => {
  const name = unique('jpg');
  for (const bytes of [undefined, 0, -1, 1.5, 'big', null]) {
    const res = await postJson(`${url}/api/images/uploads/`, { name, bytes });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ field: 'bytes', message: expect.stringMatching(/bytes must be an integer from 1 to \d+ bytes/) });
  }
  const tooBig = await postJson(`${url}/api/images/uploads/`, { name, bytes: 10 ** 12 });
  expect(tooBig.status).toBe(413);
  expect(tooBig.body.error).toMatchObject({ field: 'bytes', message: expect.stringContaining('MAX_INPUT_BYTES') });
});
