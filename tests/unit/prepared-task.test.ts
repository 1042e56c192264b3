// A delivered message is read and checked once into the task a worker runs: what kind of task
// it is decides its ending, and only a runnable task has its image read.
import { parseFilterSteps } from '../../lib/filters/request';
import type { TaskMessage } from '../../lib/tasks/store';
import { resolveIdentity } from '../../lib/worker/registry';
import { missingCapabilities, prepareTask, preparedTaskId } from '../../lib/worker/task';

const ID = '3f2b8c1e-9d4a-4e7b-8a61-2c5d9e0f1a2b';
const message = (over: Partial<TaskMessage> = {}): TaskMessage => ({ task_id: ID, batch_id: ID, image: 'sample_4k.jpg', steps: parseFilterSteps(['blur'], {}), queued_at: 1, ...over });
const body = (m: unknown) => ({ body: JSON.stringify(m) });
const io = resolveIdentity('worker-1', undefined);
const all = resolveIdentity('worker-3', undefined);

test('a valid message the worker can run is runnable, with the steps as the API builds them', () => {
  const task = prepareTask(body(message({ steps: [{ name: 'blur', params: {} }] })), io);
  expect(task.kind).toBe('runnable');
  if (task.kind !== 'runnable') return;
  expect(task.message.steps).toEqual([{ name: 'blur', params: { radius: 3 } }]);
  expect(task.input).toBeUndefined();
  expect(preparedTaskId(task)).toBe(ID);
});

test('filters the worker lacks make a mismatch, each missing filter named once, in order', () => {
  const task = prepareTask(body(message({ steps: parseFilterSteps(['edges', 'blur', 'sharpen', 'edges'], {}) })), io);
  expect(task).toMatchObject({ kind: 'mismatch', missing: ['edges', 'sharpen'] });
  expect(prepareTask(body(message({ steps: parseFilterSteps(['edges', 'blur'], {}) })), all).kind).toBe('runnable');
});

test('a task message whose contents break the API rules is invalid, naming the field', () => {
  const task = prepareTask(body(message({ steps: [{ name: 'brightness', params: { factor: -5 } }] })), all);
  expect(task.kind).toBe('invalid');
  if (task.kind !== 'invalid') return;
  expect(task.error.field).toBe('filter_params.brightness.factor');
  expect(preparedTaskId(task)).toBe(ID);
  // Validation comes before capabilities: an invalid filter is invalid even for a worker without it.
  expect(prepareTask(body(message({ steps: [{ name: 'posterize', params: {} }] })), io).kind).toBe('invalid');
});

test('a body that is no task message is unreadable, keeping the task id when it names a valid one', () => {
  expect(prepareTask({ body: 'not json' }, all)).toEqual({ kind: 'unreadable', taskId: undefined, error: 'message body is not JSON' });
  const named = prepareTask(body({ task_id: ID, image: 'x.jpg' }), all);
  expect(named).toMatchObject({ kind: 'unreadable', taskId: ID });
  expect(preparedTaskId(named)).toBe(ID);
  expect(prepareTask(body({ task_id: '../etc' }), all)).toMatchObject({ kind: 'unreadable', taskId: undefined });
});

test('missingCapabilities lists nothing for a worker with every filter', () => {
  expect(missingCapabilities(parseFilterSteps(['sharpen', 'edges', 'resize'], {}), all)).toEqual([]);
  expect(missingCapabilities(parseFilterSteps(['sharpen', 'resize'], {}), resolveIdentity('worker-2', undefined))).toEqual(['resize']);
});
