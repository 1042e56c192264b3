// A queue message is read twice: is it a task message at all (else it is left to be
// dead-lettered), and do its contents pass the API's own rules (else its task fails at once).
import { ValidationError } from '../../lib/core/errors';
import { parseFilterSteps } from '../../lib/filters/request';
import { isMessageEtag, readTaskMessage, UnreadableMessageError, validateTaskMessage } from '../../lib/tasks/message';
import type { TaskMessage } from '../../lib/tasks/store';

const ID = '3f2b8c1e-9d4a-4e7b-8a61-2c5d9e0f1a2b';
const message = (over: Partial<TaskMessage>): TaskMessage => ({ task_id: ID, batch_id: ID, image: 'sample_4k.jpg', steps: parseFilterSteps(['blur'], {}), queued_at: 1, ...over });

test('bodies that are not task messages are unreadable, not invalid', () => {
  for (const body of ['not json', '{}', JSON.stringify({ ...message({}), steps: 'garbage' }), JSON.stringify({ ...message({}), task_id: '../../x' }), JSON.stringify({ ...message({}), steps: [null] })]) {
    expect(() => readTaskMessage(body)).toThrow(UnreadableMessageError);
  }
  expect(readTaskMessage(JSON.stringify(message({})))).toEqual(message({}));
});

test('a valid message passes unchanged, a repeated filter with the same parameters included', () => {
  const m = message({ steps: parseFilterSteps(['sharpen', 'sharpen', 'edges'], { sharpen: { strength: 2 } }) });
  expect(validateTaskMessage(m)).toEqual(m);
});

test('the image ETag the API recorded passes as S3 writes it (quoted, multipart), and may be absent', () => {
  for (const image_etag of ['"d41d8cd98f00b204e9800998ecf8427e"', '"9b2cf535f27731c974343645a3985328-3"', 'd41d8cd98f00b204e9800998ecf8427e', undefined]) {
    expect(validateTaskMessage(message({ image_etag })).image_etag).toBe(image_etag);
  }
  // What the API puts in a message is what the worker accepts: a weak or odd ETag is left out.
  expect(isMessageEtag('"d41d8cd98f00b204e9800998ecf8427e"')).toBe(true);
  for (const odd of ['W/"abc"', '"a b"', '', undefined, 7]) expect(isMessageEtag(odd)).toBe(false);
});

test('missing parameters get the API defaults', () => {
  expect(validateTaskMessage(message({ steps: [{ name: 'blur', params: {} }] })).steps).toEqual([{ name: 'blur', params: { radius: 3 } }]);
});

test.each([
  ['image', message({ image: '../x.jpg' }), 'image'],
  ['filter', message({ steps: [{ name: 'posterize', params: {} }] }), 'filters[0]'],
  ['parameter range', message({ steps: [{ name: 'brightness', params: { factor: -5 } }] }), 'filter_params.brightness.factor'],
  ['unknown parameter', message({ steps: [{ name: 'blur', params: { sigma: 2 } }] }), 'filter_params.blur.sigma'],
  ['a filter repeated with other parameters', message({ steps: [{ name: 'blur', params: { radius: 1 } }, { name: 'blur', params: { radius: 9 } }] }), 'filter_params.blur'],
  ['prototype pollution', message({ steps: [{ name: '__proto__', params: {} }] }), 'filters[0]'],
  ['image ETag with a space', message({ image_etag: '"abc def"' }), 'image_etag'],
  ['image ETag that is not a string', message({ image_etag: 42 as unknown as string }), 'image_etag'],
  ['image ETag too long', message({ image_etag: 'a'.repeat(201) }), 'image_etag'],
])('invalid %s: a ValidationError naming the field', (_, m, field) => {
  let err: unknown;
  try {
    validateTaskMessage(m);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ValidationError);
  expect((err as ValidationError).field).toBe(field);
});
