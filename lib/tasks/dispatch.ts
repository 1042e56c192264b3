/**
 * Capability-aware dispatch (DISPATCH_MODE=capability), as Celery's task routes do it: one
 * FIFO queue per worker class, a task sent to the narrowest class that can run all of its
 * filters, and each worker consuming every class queue it fully covers. No task ever
 * reaches a worker that cannot run it; a task whose class has no live worker waits.
 */
import type { Clients } from '../core/clients';
import { WORKER_CLASSES, type WorkerClass } from '../worker/classes';
import { lookupQueueUrl } from './queues';

export type Route = WorkerClass;

/** One FIFO queue per worker class (lib/worker/classes.ts), narrowest first. */
export const ROUTES: readonly Route[] = WORKER_CLASSES;

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
