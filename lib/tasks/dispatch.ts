/**
 * Capability-aware dispatch (DISPATCH_MODE=capability), as Celery's task routes do it: one
 * FIFO queue per worker class, a task sent to the narrowest class that can run all of its
 * filters, and each worker consuming every class queue it fully covers. No task ever
 * reaches a worker that cannot run it; a task whose class has no live worker waits.
 */
import type { Clients } from '../core/clients';
import { FILTER_NAMES } from '../filters/registry';
import { lookupQueueUrl } from './queues';

/** A worker class: the filters its workers cover, and the queue its tasks wait in. */
export interface WorkerClass {
  name: string;
  filters: readonly string[];
}

export type Route = WorkerClass;

/**
 * The one definition of worker classes. Dispatch derives its class queues from it, the registry
 * a built-in worker's capabilities (lib/worker/classes.ts), and the aws stage its worker
 * functions, class queues and roles (scripts/aws/stack.ts); worker-classes-drift fails if
 * serverless.yml or docker-compose.yml keeps a list of its own that disagrees.
 * Narrowest first, so a task goes to the narrowest class covering all its filters: the
 * I/O specialist (sharp's filters), the CPU specialist (OpenCV's), and general purpose.
 */
export const WORKER_CLASSES: readonly WorkerClass[] = [
  { name: 'io', filters: ['resize', 'blur', 'brightness'] },
  { name: 'cpu', filters: ['sharpen', 'edges'] },
  { name: 'all', filters: FILTER_NAMES },
];

/** One FIFO queue per worker class, narrowest first. */
export const ROUTES: readonly Route[] = WORKER_CLASSES;

export function workerClass(name: string): WorkerClass {
  const c = WORKER_CLASSES.find((k) => k.name === name);
  if (!c) throw new Error(`no worker class ${name}`);
  return c;
}

export function routeFor(filters: readonly string[]): Route {
  return ROUTES.find((r) => filters.every((f) => r.filters.includes(f)))!;
}

/** The class queues a worker with these capabilities can serve completely. */
export function routesServedBy(capabilities: readonly string[]): Route[] {
  return ROUTES.filter((r) => r.filters.every((f) => capabilities.includes(f)));
}

/** A class queue's name beside the task queue's: image-tasks.fifo → image-tasks-io.fifo (also the aws stage's, scripts/aws/stack.ts). */
export function classQueueName(taskQueueName: string, route: Route): string {
  return taskQueueName.replace(/\.fifo$/, `-${route.name}.fifo`);
}

export function routeQueueName(deps: Clients, route: Route): string {
  return classQueueName(deps.config.aws.queueName, route);
}

export function routeQueueUrl(deps: Clients, route: Route): Promise<string> {
  return lookupQueueUrl(deps, routeQueueName(deps, route));
}
