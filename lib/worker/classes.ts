/**
 * The three workers of the original course project, one per worker class (the classes are
 * defined with dispatch, lib/tasks/dispatch.ts). The registry derives a built-in worker's
 * capabilities from here, and the aws stage its worker functions (scripts/aws/stack.ts).
 */
import { workerClass } from '../tasks/dispatch';

export const BUILT_IN_WORKERS: Readonly<Record<string, string>> = {
  'worker-1': 'io',
  'worker-2': 'cpu',
  'worker-3': 'all',
};

/** A built-in worker's capabilities, or undefined for any other id. */
export function builtInCapabilities(workerId: string): readonly string[] | undefined {
  const cls = BUILT_IN_WORKERS[workerId];
  return cls === undefined ? undefined : workerClass(cls).filters;
}
