import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { getJson, sharedStack } from '../helpers/shared-stack';
import { ROOT } from '../helpers/stack';

const { url } = sharedStack();

describe('GET /api/image/info/', () => {
  test('describes the 4K sample and lists every image', async () => {
    const { status, body } = await getJson(`${url}/api/image/info/`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ name: 'sample_4k.jpg', width: 3840, height: 2160, format: 'jpeg', channels: 3, progressive: false, has_exif: true });
    expect(body.bytes).toBe(statSync(path.join(ROOT, 'static', 'sample_4k.jpg')).size);
    expect(body.density_dpi).toBe(72);
    const shipped = readdirSync(path.join(ROOT, 'static')).filter((f) => /\.jpe?g$/.test(f)).sort();
    expect(body.available_images.map((i: { name: string }) => i.name)).toEqual(shipped);
  });

  test('?name= picks another image', async () => {
    const { status, body } = await getJson(`${url}/api/image/info/?name=misurina-sunset.jpg`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ name: 'misurina-sunset.jpg', width: 4272, height: 2848, progressive: true });
  });

  test('an unknown image is a 404 naming it', async () => {
    const { status, body } = await getJson(`${url}/api/image/info/?name=nope.jpg`);
    expect(status).toBe(404);
    expect(body.error).toMatchObject({ code: 'not_found', field: 'name' });
    expect(body.error.message).toContain('nope.jpg');
  });

  test.each([
    ['', 'empty'],
    ['sample_4k', 'no extension'],
    ['notes.txt', 'not an image extension'],
    ['a'.repeat(200) + '.jpg', 'too long'],
  ])('name=%j (%s) is a 400 naming the field', async (name) => {
    const { status, body } = await getJson(`${url}/api/image/info/?name=${encodeURIComponent(name)}`);
    expect(status).toBe(400);
    expect(body.error).toMatchObject({ code: 'validation_error', field: 'name' });
    expect(body.error.message).toMatch(/letters, digits/);
  });
});
