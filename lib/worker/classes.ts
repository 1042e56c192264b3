/**
 * The one definition of worker classes and of the built-in workers. Dispatch derives its
 * class queues from it (lib/tasks/dispatch.ts), the registry derives a built-in worker's
 * capabilities from it (lib/worker/registry.ts), and the aws stage's worker functions, class
 * queues and roles are generated from it (scripts/aws/stack.ts); worker-classes-drift fails
 * if serverless.yml or docker-compose.yml keeps a list of its own that disagrees.
 */
import { FILTER_NAMES } from '../filters/registry';

export interface WorkerClass {
  name: string;
  filters: readonly string[];
}

/**
 * Narrowest first, so a task goes to the narrowest class covering all its filters: the
 * I/O specialist (sharp's filters), the CPU specialist (OpenCV's), and general purpose.
 */
export const WORKER_CLASSES: readonly WorkerClass[] = [
  { name: 'io', filters: ['resize', 'blur', 'brightness'] },
  { name: 'cpu', filters: ['sharpen', 'edges'] },
  { name: 'all', filters: FILTER_NAMES },
];

/** The three workers of the original course project, one per class. */
export const BUILT_IN_WORKERS: Readonly<Record<string, string>> = {
  'worker-1': 'io',
  'worker-2': 'cpu',
  'worker-3': 'all',
};

export function workerClass(name: string): WorkerClass {
  const c = WORKER_CLASSES.find((k) => k.name === name);
  if (!c) throw new Error(`no worker class ${name}`);
  return c;
}

/** A built-in worker's capabilities, or undefined for any other id. */
export function builtInCapabilities(workerId: string): readonly string[] | undefined {
  const cls = BUILT_IN_WORKERS[workerId];
  return cls === undefined ? undefined : workerClass(cls).filters;
}
