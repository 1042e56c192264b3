import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { DependencyUnavailableError, NotFoundError, ValidationError } from '../../lib/core/errors';
import { errorResponse, jsonBody, jsonDepth, MAX_JSON_BODY_BYTES, MAX_JSON_DEPTH, parseEvent } from '../../lib/core/http';
import { TimeoutError, toDependencyError } from '../../lib/core/dependencies';

const event = (over: Partial<APIGatewayProxyEventV2> = {}): APIGatewayProxyEventV2 =>
  ({
    routeKey: 'POST /api/x/',
    rawPath: '/api/x/',
    headers: { 'Content-Type': 'application/json' },
    requestContext: { http: { method: 'POST' } },
    ...over,
  }) as unknown as APIGatewayProxyEventV2;

test.each([
  [new ValidationError('bad', { field: 'delay' }), 400, 'validation_error'],
  [new NotFoundError('gone'), 404, 'not_found'],
  [new DependencyUnavailableError('redis', 'redis is unavailable: down'), 503, 'dependency_unavailable'],
  [new Error('secret internals'), 500, 'internal_error'],
])('%p maps to %i', (err, status, code) => {
  const res = errorResponse(err, 'req-1');
  expect(res.statusCode).toBe(status);
  const body = JSON.parse(res.body as string);
  expect(body.error.code).toBe(code);
  expect(res.body).not.toContain('secret internals');
});

test('headers are lower-cased and base64 bodies decoded', () => {
  const req = parseEvent(event({ body: Buffer.from([0xff, 0xd8]).toString('base64'), isBase64Encoded: true }));
  expect(req.headers['content-type']).toBe('application/json');
  expect([...req.body]).toEqual([0xff, 0xd8]);
  expect(req.route).toBe('POST /api/x/');
});

test('jsonBody explains malformed JSON, non-objects and wrong content types', () => {
  expect(() => jsonBody(parseEvent(event({ body: '{"a":' })))).toThrow(/body is not valid JSON/);
  expect(() => jsonBody(parseEvent(event({ body: '[1]' })))).toThrow(/body must be a JSON object/);
  expect(() => jsonBody(parseEvent(event({ body: 'a=1', headers: { 'content-type': 'text/plain' } })))).toThrow(/Content-Type: application\/json/);
  expect(jsonBody(parseEvent(event({ body: '{"a":1}' })))).toEqual({ a: 1 });
  expect(jsonBody(parseEvent(event({ body: '' })))).toEqual({});
});

test('jsonBody refuses nesting deeper than MAX_JSON_DEPTH before parsing, counting brackets outside strings only', () => {
  const deep = `{"a":${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}}`;
  expect(() => jsonBody(parseEvent(event({ body: deep })))).toThrow(/body nests arrays\/objects deeper than 32 levels/);
  const ok = `{"a":${'['.repeat(MAX_JSON_DEPTH - 1)}${']'.repeat(MAX_JSON_DEPTH - 1)}}`;
  expect(jsonBody(parseEvent(event({ body: ok })))).toHaveProperty('a');
  expect(jsonDepth('{"s":"[[[[\\"[[[{{{"}')).toBe(1);
});

test('jsonBody refuses a body over MAX_JSON_BODY_BYTES with a 413 naming the body', () => {
  const big = JSON.stringify({ s: 'x'.repeat(MAX_JSON_BODY_BYTES) });
  let err: unknown;
  try {
    jsonBody(parseEvent(event({ body: big })));
  } catch (e) {
    err = e;
  }
  expect(errorResponse(err, 'r').statusCode).toBe(413);
  expect(JSON.parse(errorResponse(err, 'r').body as string).error.field).toBe('body');
});

test('a dependency failure answers with the dependency name, not the raw error text', () => {
  const raw = new Error('connect ECONNREFUSED 10.1.2.3:6379');
  const res = errorResponse(toDependencyError('redis', raw), 'r');
  expect(res.statusCode).toBe(503);
  const body = JSON.parse(res.body as string);
  expect(body.error).toMatchObject({ code: 'dependency_unavailable', dependency: 'redis', retry_after_s: 2 });
  // Clients are told when to try again, as for 429s and overload 503s.
  expect(res.headers?.['retry-after']).toBe('2');
  expect(body.error.message).toMatch(/^redis is unavailable/);
  expect(res.body).not.toMatch(/ECONNREFUSED|10\.1\.2\.3/);
});

test('a dependency that timed out is said to be late, not down', () => {
  const late = [new Error('Command timed out'), Object.assign(new Error('socket hang'), { name: 'TimeoutError' }), new TimeoutError('s3 get timed out after 5 ms')];
  for (const e of late) {
    const body = JSON.parse(errorResponse(toDependencyError('redis', e), 'r').body as string);
    expect(body.error).toMatchObject({ code: 'dependency_unavailable', dependency: 'redis', retry_after_s: 2 });
    expect(body.error.message).toMatch(/^redis did not answer in time; retry shortly/);
  }
  const refused = JSON.parse(errorResponse(toDependencyError('sqs', new Error('connect ECONNREFUSED')), 'r').body as string);
  expect(refused.error.message).toMatch(/^sqs is unavailable/);
});
