/** GET /api/workers/status/: the workers, the queues and the task totals. */
import type { Clients } from '../core/clients';
import { ROUTES, routeQueueName, routeQueueUrl } from '../tasks/dispatch';
import { deadLetterQueueUrl, queueDepth, taskQueueUrl } from '../tasks/queues';
import { outcomeTotals } from '../tasks/store';
import { listWorkerViews } from './liveness';
import { offlineAfterS } from './registry';

export async function workersStatus(deps: Clients) {
  const capability = deps.config.dispatch.mode === 'capability';
  const [workers, totals, main, dlq, routes] = await Promise.all([
    listWorkerViews(deps),
    outcomeTotals(deps),
    taskQueueUrl(deps).then((u) => queueDepth(deps, u)),
    deadLetterQueueUrl(deps).then((u) => queueDepth(deps, u)),
    capability ? Promise.all(ROUTES.map(async (r) => ({ route: r.name, filters: r.filters, queue: routeQueueName(deps, r), ...(await queueDepth(deps, await routeQueueUrl(deps, r))) }))) : undefined,
  ]);
  const alive = workers.filter((w) => w.alive);
  return {
    workers,
    summary: {
      total: workers.length,
      alive: alive.length,
      busy: alive.filter((w) => w.status === 'busy').length,
      offline: workers.length - alive.length,
      capabilities_available: [...new Set(alive.flatMap((w) => w.capabilities))].sort(),
    },
    queue: routes
      ? {
          name: 'per worker class',
          visible: routes.reduce((a, r) => a + r.visible, 0),
          in_flight: routes.reduce((a, r) => a + r.in_flight, 0),
          dead_letter: dlq.visible + dlq.in_flight,
          routes,
        }
      : { name: deps.config.aws.queueName, visible: main.visible, in_flight: main.in_flight, dead_letter: dlq.visible + dlq.in_flight },
    tasks: totals,
    liveness: deps.config.workers.liveness,
    heartbeat: { interval_s: deps.config.workers.heartbeatIntervalS, offline_after_s: offlineAfterS(deps) },
    dispatch: deps.config.dispatch.mode,
  };
}
