/**
 * Where several worker processes add their histogram samples (Redis), read by /api/metrics.
 * Workers add them in the script that records a task's outcome (lib/tasks/store.ts finishAttempt).
 */
import type { Clients } from '../core/clients';

export const filterTimesKey = (deps: Clients, filter: string) => deps.key('metrics', 'filter_ms', filter);
export const filterNamesKey = (deps: Clients) => deps.key('metrics', 'filters');
