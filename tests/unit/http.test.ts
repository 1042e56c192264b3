import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { DependencyUnavailableError, NotFoundError, ValidationError } from '../../lib/core/errors';
import { errorResponse, jsonBody, parseEvent } from '../../lib/core/http';

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
