// Every endpoint against malformed, hostile and oversized input: each answer is the 4xx JSON
// error of the check the case targets (its status, `code` and `field`), never a 5xx, and the
// stack is healthy afterwards. Expecting the code and field per case keeps a routing 404 or
// a generic body error from standing in for the validation a case is about.
import { startStack, type RunningStack } from '../helpers/stack';

let stack: RunningStack;
beforeAll(async () => {
  stack = await startStack({}, 'bad-input');
}, 120_000);
afterAll(() => stack?.stop());

interface Case {
  what: string;
  method?: string;
  path: string;
  body?: string | Uint8Array;
  type?: string;
  headers?: Record<string, string>;
  /** The answer the case targets: status, error code, and the field it names (undefined: none). */
  want: { status: number; code?: string; field?: string };
}

const json = (v: unknown) => JSON.stringify(v);
const invalid = (field: string) => ({ status: 400, code: 'validation_error', field });
const BATCH = ['sequential', 'threading', 'multiprocessing', 'compare', 'compare-all', 'stress', 'distributed'];

const cases: Case[] = [
  // Day 1
  ...['../../etc/passwd', '..%2F..%2Fetc%2Fpasswd', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '..%252Fetc%252Fpasswd', '%00.jpg', 'a%0a.jpg', 'x'.repeat(300) + '.jpg', 'sample_4k.jpg%2F..%2F..', '', 'CON.exe'].map(
    (n): Case => ({ what: `info name=${n.slice(0, 30)}`, path: `/api/image/info/?name=${n}`, want: invalid('name') }),
  ),
  ...['../static/sample_4k.jpg', '/etc/passwd'].map((n): Case => ({ what: `4k name=${n}`, path: `/api/image/4k/?name=${n}`, want: invalid('name') })),
  { what: '4k name=nope.jpg', path: '/api/image/4k/?name=nope.jpg', want: { status: 404, code: 'not_found', field: 'name' } },
  ...['abc', '-1', '1e308', 'NaN', 'Infinity', '26', '0x10', '', '9'.repeat(400)].map((d): Case => ({ what: `slow delay=${d.slice(0, 20)}`, path: `/api/image/slow/?delay=${d}`, want: invalid('delay') })),
  // Day 2 and 3 bodies, on every batch endpoint
  ...BATCH.flatMap((ep): Case[] => [
    { what: `${ep}: malformed JSON`, method: 'POST', path: `/api/process-batch/${ep}/`, body: '{"filters": [', want: invalid('body') },
    { what: `${ep}: array body`, method: 'POST', path: `/api/process-batch/${ep}/`, body: '[]', want: invalid('body') },
    { what: `${ep}: filters a string`, method: 'POST', path: `/api/process-batch/${ep}/`, body: json({ filters: 'blur' }), want: invalid('filters') },
    { what: `${ep}: 10,000 filters`, method: 'POST', path: `/api/process-batch/${ep}/`, body: json({ filters: Array(10_000).fill('blur') }), want: invalid('filters') },
    { what: `${ep}: unknown filter`, method: 'POST', path: `/api/process-batch/${ep}/`, body: json({ filters: ['sepia'] }), want: invalid('filters[0]') },
    { what: `${ep}: huge number`, method: 'POST', path: `/api/process-batch/${ep}/`, body: json({ filters: ['resize'], filter_params: { resize: { width: 1e308 } } }), want: invalid('filter_params.resize.width') },
    { what: `${ep}: negative size`, method: 'POST', path: `/api/process-batch/${ep}/`, body: json({ filters: ['resize'], filter_params: { resize: { width: -800, height: 600 } } }), want: invalid('filter_params.resize.width') },
    { what: `${ep}: unknown param`, method: 'POST', path: `/api/process-batch/${ep}/`, body: json({ filters: ['blur'], filter_params: { blur: { sigma: 2 } } }), want: invalid('filter_params.blur.sigma') },
    { what: `${ep}: traversal image`, method: 'POST', path: `/api/process-batch/${ep}/`, body: json({ filters: ['blur'], images: ['..%2F..%2Fetc%2Fpasswd'] }), want: invalid('images[0]') },
    { what: `${ep}: form content type`, method: 'POST', path: `/api/process-batch/${ep}/`, body: 'filters=blur', type: 'application/x-www-form-urlencoded', want: invalid('body') },
    { what: `${ep}: __proto__ filter`, method: 'POST', path: `/api/process-batch/${ep}/`, body: '{"filters": ["__proto__"], "filter_params": {"__proto__": {"x": 1}}}', want: invalid('filters[0]') },
  ]),
  { what: 'distributed: bad idempotency key', method: 'POST', path: '/api/process-batch/distributed/', body: json({ filters: ['blur'] }), headers: { 'idempotency-key': 'x'.repeat(300) }, want: invalid('Idempotency-Key') },
  { what: 'stress: 1e9 iterations', method: 'POST', path: '/api/process-batch/stress/', body: json({ filters: ['blur'], num_iterations: 1e9 }), want: invalid('num_iterations') },
  { what: 'sequential: copies 1e6', method: 'POST', path: '/api/process-batch/sequential/', body: json({ filters: ['blur'], copies: 1e6 }), want: invalid('copies') },
  // Task ids
  ...['abc', '..%2F..%2Fetc', "1'%20OR%20'1'='1", '00000000-0000-0000-0000-00000000000g', '0'.repeat(36)].map((id): Case => ({ what: `task id ${id.slice(0, 20)}`, path: `/api/task/${id}/status/`, want: invalid('task_id') })),
  // Uploads
  { what: 'upload: text as image', method: 'POST', path: '/api/images/?name=a.jpg', body: 'not an image', type: 'application/octet-stream', want: { status: 422, code: 'image_rejected' } },
  { what: 'upload: image/jpeg content type', method: 'POST', path: '/api/images/?name=a.jpg', body: 'xx', type: 'image/jpeg', want: { status: 415, code: 'unsupported_media_type', field: 'content-type' } },
  { what: 'upload: traversal name', method: 'POST', path: '/api/images/?name=..%2F..%2Fetc%2Fpasswd', body: 'xx', type: 'application/octet-stream', want: invalid('name') },
  { what: 'upload: no name', method: 'POST', path: '/api/images/', body: 'xx', type: 'application/octet-stream', want: invalid('name') },
  { what: 'upload: empty body', method: 'POST', path: '/api/images/?name=a.png', body: '', type: 'application/octet-stream', want: invalid('body') },
  // Refused by serverless-offline's 10 MB payload cap (API Gateway's), before any handler: no code.
  { what: 'upload: oversized body', method: 'POST', path: '/api/images/?name=big.jpg', body: new Uint8Array(11 * 1024 * 1024), type: 'application/octet-stream', want: { status: 413 } },
  { what: 'upload start: no name', method: 'POST', path: '/api/images/uploads/', body: json({}), want: invalid('name') },
  { what: 'upload complete: bad id', method: 'POST', path: '/api/images/uploads/..%2F..%2F/complete/', body: json({ name: 'a.jpg' }), want: invalid('upload_id') },
  // DLQ
  { what: 'dlq max=abc', path: '/api/dlq/?max=abc', want: invalid('max') },
  { what: 'redrive max=-1', method: 'POST', path: '/api/dlq/redrive/', body: json({ max: -1 }), want: invalid('max') },
  // Unknown
  { what: 'unknown path', path: '/api/../../etc/passwd', want: { status: 404, code: 'not_found' } },
  { what: 'dashboard asset traversal', path: '/dashboard/..%2F..%2Fpackage.json', want: { status: 404, code: 'not_found' } },
];

test(`a corpus of ${cases.length} bad requests: each the 4xx JSON error (status, code, field) its check gives, none 5xx, healthy after`, async () => {
  expect(cases.length).toBeGreaterThanOrEqual(50);
  const failures: string[] = [];
  for (const c of cases) {
    const res = await fetch(`${stack.url}${c.path}`, {
      method: c.method ?? 'GET',
      headers: { ...(c.body !== undefined ? { 'content-type': c.type ?? 'application/json' } : {}), ...c.headers },
      body: c.body as BodyInit | undefined,
    });
    const text = await res.text();
    let body: any;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const message = body?.error?.message ?? body?.message;
    const got = { status: res.status, code: body?.error?.code, field: body?.error?.field };
    if (got.status !== c.want.status || got.code !== c.want.code || got.field !== c.want.field || typeof message !== 'string' || message.length < 5) {
      failures.push(`${c.what}: want ${JSON.stringify(c.want)}, got ${JSON.stringify(got)} ${text.slice(0, 160)}`);
    }
    if (/root:x:0:0|"name": "image-pipeline"/.test(text)) failures.push(`${c.what}: leaked file contents`);
  }
  expect(failures).toEqual([]);
  const health = await fetch(`${stack.url}/api/health/`);
  expect(health.status).toBe(200);
  expect(stack.child.exitCode).toBeNull();
}, 300_000);
