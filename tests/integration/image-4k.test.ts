import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sharedStack } from '../helpers/shared-stack';
import { ROOT } from '../helpers/stack';

const { url } = sharedStack();
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('GET /api/image/4k/', () => {
  test('returns the stored 4K JPEG byte for byte', async () => {
    const original = readFileSync(path.join(ROOT, 'static', 'sample_4k.jpg'));
    const res = await fetch(`${url}/api/image/4k/`);
    expect(res.status).toBe(200);
    const body = Buffer.from(await res.arrayBuffer());
    expect(sha256(body)).toBe(sha256(original));
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(Number(res.headers.get('content-length'))).toBe(original.length);
    expect(res.headers.get('content-disposition')).toContain('filename="sample_4k.jpg"');
  });

  test('?name= serves another image unchanged', async () => {
    const original = readFileSync(path.join(ROOT, 'static', 'misurina-sunset.jpg'));
    const res = await fetch(`${url}/api/image/4k/?name=misurina-sunset.jpg`);
    expect(res.status).toBe(200);
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(original));
  });

  test('an unknown image is a JSON 404', async () => {
    const res = await fetch(`${url}/api/image/4k/?name=missing.jpg`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
  });
});
