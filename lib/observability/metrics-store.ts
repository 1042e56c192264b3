/** Histogram samples that several worker processes add to one place (Redis), read by /api/metrics. */
import type { Clients } from '../core/clients';
import { dependency } from '../core/dependencies';
import { bucketIndex } from './histogram';

export const filterTimesKey = (deps: Clients, filter: string) => deps.key('metrics', 'filter_ms', filter);
export const filterNamesKey = (deps: Clients) => deps.key('metrics', 'filters');

export async function recordFilterTimes(deps: Clients, filters: { name: string; ms: number }[]): Promise<void> {
  const m = deps.redis.multi();
  for (const f of filters) {
    const k = filterTimesKey(deps, f.name);
    m.sadd(filterNamesKey(deps), f.name).hincrby(k, String(bucketIndex(f.ms)), 1).hincrbyfloat(k, 'sum', f.ms).hincrby(k, 'count', 1);
  }
  await dependency('redis', () => m.exec());
}
