// explainPending: why a task is not finished yet, computed from the task and the workers
// without touching Redis. One test per branch.
import { explainPending } from '../../lib/tasks/status';
import type { TaskRecord } from '../../lib/tasks/store';
import type { WorkerView } from '../../lib/worker/registry';

const MAX = 3;
const task = (over: Partial<TaskRecord>): TaskRecord =>
  ({ task_id: 't1', status: 'pending', filters: ['sharpen'], attempts: 0, worker_id: null, route: null, last_error: null, explanation: null, ...over }) as TaskRecord;
const worker = (id: string, capabilities: string[], over: Partial<WorkerView> = {}): WorkerView =>
  ({ id, capabilities, alive: true, status: 'idle', current_task: null, ...over }) as WorkerView;
const io = worker('worker-1', ['resize', 'blur', 'brightness']);
const cpu = worker('worker-2', ['sharpen', 'edges']);

test('capability dispatch, no live worker covers the class: waiting for those capabilities', () => {
  expect(explainPending(task({ route: 'cpu', filters: ['sharpen', 'sharpen'] }), [io, { ...cpu, alive: false }], MAX)).toBe('Waiting for a worker with capabilities [sharpen]');
});

test('no live worker at all: the seed text', () => {
  expect(explainPending(task({}), [worker(io.id, io.capabilities, { alive: false, status: 'offline' })], MAX)).toBe('No workers available to process task');
  expect(explainPending(task({}), [], MAX)).toBe('No workers available to process task');
});

test('FIFO dispatch, live workers but none capable: whichever takes it fails it', () => {
  expect(explainPending(task({ filters: ['sharpen'] }), [io], MAX)).toMatch(/no live worker can handle all of \[sharpen\].*FIFO dispatch/);
});

test('a capable worker is alive and the task was tried before: waiting for redelivery, with the last error', () => {
  expect(explainPending(task({ attempts: 1, last_error: 'redis is unavailable' }), [cpu], MAX)).toBe('Waiting for redelivery after attempt 1 (redis is unavailable)');
  expect(explainPending(task({ attempts: 2 }), [cpu], MAX)).toBe('Waiting for redelivery after attempt 2 (worker stopped)');
});

test('a capable worker is alive and the task was never tried: waiting in the queue', () => {
  expect(explainPending(task({}), [io, cpu], MAX)).toBe('Waiting in the queue for a worker');
});

test('processing by a live worker: who has it and which attempt', () => {
  const t = task({ status: 'processing', worker_id: 'worker-2', attempts: 1 });
  expect(explainPending(t, [worker(cpu.id, cpu.capabilities, { status: 'busy', current_task: 't1' })], MAX)).toBe('Being processed by worker-2 (attempt 1)');
});

test('processing by a worker that stopped, deliveries left: SQS redelivers', () => {
  const t = task({ status: 'processing', worker_id: 'worker-2', attempts: 1 });
  expect(explainPending(t, [worker(cpu.id, cpu.capabilities, { alive: false, status: 'offline' })], MAX)).toBe('Worker worker-2 stopped during attempt 1; SQS redelivers its message after the visibility timeout');
});

test('processing by a worker that stopped on the last allowed delivery: the dead-letter queue and the sweeper', () => {
  const t = task({ status: 'processing', worker_id: 'worker-2', attempts: MAX });
  expect(explainPending(t, [worker(cpu.id, cpu.capabilities, { alive: false, status: 'offline' })], MAX)).toMatch(/attempt 3; that was its last allowed delivery.*dead-letter queue.*sweeper records the task failed/);
});

test('a finished task keeps the explanation its ending recorded, whatever the workers', () => {
  const t = task({ status: 'failed', explanation: 'The task cannot be processed as submitted; it is not retried' });
  expect(explainPending(t, [], MAX)).toBe('The task cannot be processed as submitted; it is not retried');
  expect(explainPending(task({ status: 'completed', explanation: null }), [cpu], MAX)).toBeNull();
});
