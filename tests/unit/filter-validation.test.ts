import { ValidationError } from '../../lib/core/errors';
import { parseFilterSteps } from '../../lib/filters/request';

function errorOf(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ValidationError) return e;
    throw e;
  }
  throw new Error('no error thrown');
}

test('the seed bodies parse with defaults filled in', () => {
  expect(parseFilterSteps(['resize', 'blur'], { resize: { width: 800, height: 600 }, blur: { radius: 3.0 } })).toEqual([
    { name: 'resize', params: { width: 800, height: 600, fit: 'cover' } },
    { name: 'blur', params: { radius: 3 } },
  ]);
  expect(parseFilterSteps(['sharpen', 'edges'], undefined)).toEqual([
    { name: 'sharpen', params: { strength: 1 } },
    { name: 'edges', params: { low_threshold: 50, high_threshold: 150, pre_blur: true } },
  ]);
});

test.each([
  [['sepia'], {}, 'filters[0]', /unknown filter "sepia"; valid filters: resize, blur, brightness, sharpen, edges/],
  [[], {}, 'filters', /filters must be a list of 1 to 20/],
  ['resize', {}, 'filters', /filters must be a list/],
  [Array(10_000).fill('blur'), {}, 'filters', /1 to 20/],
  [[42], {}, 'filters[0]', /unknown filter 42/],
  [['__proto__'], {}, 'filters[0]', /unknown filter/],
  [['blur'], { blur: { radius: 0.1 } }, 'filter_params.blur.radius', /filter_params\.blur\.radius must be a number from 0\.3 to 100; got 0\.1/],
  [['blur'], { blur: { radius: '3' } }, 'filter_params.blur.radius', /must be a number from 0\.3 to 100; got "3"/],
  [['resize'], { resize: { width: 0 } }, 'filter_params.resize.width', /an integer from 1 to 8192/],
  [['resize'], { resize: { width: 800.5 } }, 'filter_params.resize.width', /an integer from 1 to 8192/],
  [['resize'], { resize: { width: 1e9 } }, 'filter_params.resize.width', /from 1 to 8192/],
  [['resize'], { resize: { width: 8192, height: 8192 } }, 'filter_params.resize', /at most 50000000 pixels/],
  [['resize'], { resize: { fit: 'stretch' } }, 'filter_params.resize.fit', /one of cover, contain, fill, inside, outside/],
  [['brightness'], { brightness: { factor: -1 } }, 'filter_params.brightness.factor', /from 0 to 10/],
  [['brightness'], { brightness: { amount: 2 } }, 'filter_params.brightness.amount', /not a parameter of brightness; valid: factor/],
  [['edges'], { edges: { low_threshold: 200, high_threshold: 100 } }, 'filter_params.edges.low_threshold', /must not exceed high_threshold/],
  [['edges'], { edges: { pre_blur: 'yes' } }, 'filter_params.edges.pre_blur', /true or false/],
  [['blur'], { sepia: {} }, 'filter_params.sepia', /unknown filter/],
  [['blur'], { resize: { width: 10 } }, 'filter_params.resize', /resize is not in filters/],
  [['blur'], [1], 'filter_params', /object keyed by filter name/],
  [['blur'], { blur: 3 }, 'filter_params.blur', /must be an object of parameters \(radius\)/],
])('filters=%j filter_params=%j → 400 on %s', (filters, params, field, message) => {
  const e = errorOf(() => parseFilterSteps(filters, params));
  expect(e.status).toBe(400);
  expect(e.field).toBe(field);
  expect(e.message).toMatch(message);
});
