import { getJson, sharedStack } from '../helpers/shared-stack';

const { url } = sharedStack();

// Raw query strings, sent as written: plain, URL-encoded, double-encoded, backslashes, NUL.
const ATTEMPTS = [
  '../../etc/passwd',
  '..%2F..%2Fetc%2Fpasswd',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '..%252F..%252Fetc%252Fpasswd',
  '..\\..\\etc\\passwd.jpg',
  '/etc/passwd',
  '%2Fetc%2Fpasswd.jpg',
  '../static/sample_4k.jpg',
  'source%2Fsample_4k.jpg',
  'sample_4k.jpg%00.png',
  '....//....//etc/passwd.jpg',
  '..jpg',
  '.hidden.jpg',
];

describe.each(['/api/image/info/', '/api/image/4k/', '/api/image/slow/?delay=0&'])('%s refuses path traversal', (endpoint) => {
  test.each(ATTEMPTS)('name=%s', async (attempt) => {
    const sep = endpoint.includes('?') ? '' : '?';
    const { status, body, headers } = await getJson(`${url}${endpoint}${sep}name=${attempt}`);
    expect(status).toBe(400);
    expect(headers.get('content-type')).toContain('application/json');
    expect(body.error).toMatchObject({ code: 'validation_error', field: 'name' });
    expect(JSON.stringify(body)).not.toMatch(/root:|daemon:/);
  });
});
