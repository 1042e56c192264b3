import { postJson } from '../helpers/batch';
import { sharedStack } from '../helpers/shared-stack';

const { url } = sharedStack();

test.each([
  ['sequential', { filters: ['sepia'] }, 'filters[0]', /valid filters: resize, blur, brightness, sharpen, edges/],
  ['threading', { filters: ['blur'], filter_params: { blur: { radius: 500 } } }, 'filter_params.blur.radius', /from 0\.3 to 100/],
  ['multiprocessing', { filters: ['blur'], filter_params: { blur: { sigma: 3 } } }, 'filter_params.blur.sigma', /not a parameter of blur/],
  ['compare', { filters: ['blur'], filter_params: { sharpen: {} } }, 'filter_params.sharpen', /not in filters/],
  ['compare-all', { filters: Array(10_000).fill('blur') }, 'filters', /1 to 20/],
  ['sequential', { filters: ['blur'], images: ['../../etc/passwd'] }, 'images[0]', /no path/],
  ['sequential', { filters: ['blur'], images: ['..%2F..%2Fetc%2Fpasswd'] }, 'images[0]', /no path/],
  ['sequential', { filters: ['blur'], images: [] }, 'images', /1 to 32/],
  ['sequential', { filters: ['blur'], copies: 17 }, 'copies', /copies must be an integer from 1 to 16/],
  ['sequential', { filters: ['blur'], copies: -1 }, 'copies', /from 1 to 16/],
  ['sequential', { filters: ['blur'], images: ['sample_4k.jpg', 'misurina-sunset.jpg', 'sample_4k.jpg'], copies: 11 }, 'copies', /at most 32 images per batch; got 3 x 11/],
  ['stress', { filters: ['blur'], num_iterations: 51 }, 'num_iterations', /integer from 1 to 50/],
  ['stress', { filters: ['blur'], strategy: 'fork' }, 'strategy', /one of sequential, threading, multiprocessing/],
  ['sequential', { filters: ['blur'], num_iterations: 3 }, 'num_iterations', /unknown field/],
  ['sequential', { filterz: ['blur'] }, 'filterz', /unknown field "filterz"; allowed: filters, filter_params, images, copies/],
  ['sequential', {}, 'filters', /filters must be a list/],
])('POST %s %j → 400 on %s', async (endpoint, body, field, message) => {
  const res = await postJson(`${url}/api/process-batch/${endpoint}/`, body);
  expect(res.status).toBe(400);
  expect(res.body.error.field).toBe(field);
  expect(res.body.error.message).toMatch(message);
});

test('malformed JSON is a 400 naming the body', async () => {
  const res = await postJson(`${url}/api/process-batch/sequential/`, '{"filters": [');
  expect(res.status).toBe(400);
  expect(res.body.error).toMatchObject({ field: 'body' });
  expect(res.body.error.message).toMatch(/not valid JSON/);
});

test('a non-JSON content type is refused', async () => {
  const res = await postJson(`${url}/api/process-batch/sequential/`, 'filters=blur', { 'content-type': 'application/x-www-form-urlencoded' });
  expect(res.status).toBe(400);
  expect(res.body.error.message).toMatch(/Content-Type: application\/json/);
});

test('an unknown image is a 404', async () => {
  const res = await postJson(`${url}/api/process-batch/sequential/`, { filters: ['blur'], images: ['nope.jpg'] });
  expect(res.status).toBe(404);
  expect(res.body.error.message).toContain('nope.jpg');
});

test('GET /api/filters/ lists every filter with its parameter ranges', async () => {
  const res = await fetch(`${url}/api/filters/`);
  const body = (await res.json()) as { filters: { name: string; library: string; params: Record<string, { min?: number; max?: number; default: unknown }> }[] };
  expect(body.filters.map((f) => f.name)).toEqual(['resize', 'blur', 'brightness', 'sharpen', 'edges']);
  const blur = body.filters.find((f) => f.name === 'blur')!;
  expect(blur.params.radius).toMatchObject({ min: 0.3, max: 100, default: 3 });
  // The seed's split: sharpen and edges in OpenCV.js (its SIMD build), the rest in sharp.
  expect(body.filters.find((f) => f.name === 'sharpen')!.library).toBe('opencv');
  expect(body.filters.find((f) => f.name === 'edges')!.library).toBe('opencv');
});
