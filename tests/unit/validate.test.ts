import { ValidationError } from '../../lib/core/errors';
import { numberInRange, optionalNumberInRange } from '../../lib/core/validate';
import { validateImageName } from '../../lib/images/source';

test.each([
  ['3.0', 3],
  ['0', 0],
  ['.5', 0.5],
  [' 25 ', 25],
  [2.5, 2.5],
])('numberInRange accepts %j', (raw, expected) => {
  expect(numberInRange(raw, 'delay', 0, 25)).toBe(expected);
});

test.each(['abc', '-1', '25.01', '1e1', '0x10', 'NaN', 'Infinity', '', null, true, [], {}, Number.NaN, Number.POSITIVE_INFINITY])(
  'numberInRange refuses %j naming field and range',
  (raw) => {
    const err = (() => {
      try {
        numberInRange(raw, 'delay', 0, 25);
      } catch (e) {
        return e as ValidationError;
      }
      throw new Error('accepted');
    })();
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.field).toBe('delay');
    expect(err.message).toMatch(/^delay must be a number from 0 to 25/);
  },
);

test('integers only when asked', () => {
  expect(() => numberInRange(2.5, 'copies', 1, 10, { integer: true })).toThrow(/copies must be an integer from 1 to 10/);
  expect(optionalNumberInRange(undefined, 'copies', 1, 1, 10, { integer: true })).toBe(1);
});

test.each(['sample_4k.jpg', 'misurina-sunset.jpg', 'a.PNG', 'x.tiff', 'IMG_0001.jpeg'])('valid image name %s', (n) => {
  expect(validateImageName(n)).toBe(n);
});

test.each(['../../etc/passwd', '..%2Fetc', 'a/b.jpg', 'a\\b.jpg', '.hidden.jpg', 'a..jpg', 'x.jpg\0', 'x.txt', '', 'x'.repeat(101) + '.jpg', 42])(
  'unsafe or invalid image name %j is refused',
  (n) => {
    expect(() => validateImageName(n)).toThrow(ValidationError);
  },
);
