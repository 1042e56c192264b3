import { readyClients } from '../lib/core/clients';
import { config } from '../lib/core/config';
import { runScheduledSender } from '../lib/jobs/webhooks';
import { resolveIdentity, type WorkerIdentity } from '../lib/worker/registry';
import { createWorkerHandler } from '../lib/worker/handler';
import { sweepDeadLetters } from '../lib/worker/sweeper';
import { enforceDeadlines } from '../lib/jobs/store';

let identity: WorkerIdentity | undefined;

/** One consumer function per worker; WORKER_ID and WORKER_CAPABILITIES come from serverless.yml. */
export const consume = createWorkerHandler(readyClients, () => (identity ??= resolveIdentity(config().workers.id, config().workers.capabilities)));

/** The scheduled `sweeper` function: on AWS no worker process lives between events to sweep. */
export const sweep = async () => {
  const deps = await readyClients();
  return { ...(await sweepDeadLetters(deps)), timed_out: await enforceDeadlines(deps) };
};

/** How long one scheduled sender run polls before leaving the rest to the next run (every minute). */
const SENDER_RUN_MS = 55_000;

/**
 * The scheduled `webhookSender` function: delivers due job webhooks, lingering while work keeps
 * coming (lib/jobs/webhooks.ts runScheduledSender); stops polling early enough that the attempts
 * under way finish inside the function's timeout.
 */
export const deliverWebhooks = async (_event?: unknown, context?: { getRemainingTimeInMillis?: () => number }) => {
  const deps = await readyClients();
  const remaining = context?.getRemainingTimeInMillis?.() ?? SENDER_RUN_MS;
  const reserve = 2 * deps.config.webhooks.timeoutMs + 5000;
  return runScheduledSender(deps, { until: Date.now() + Math.max(0, Math.min(SENDER_RUN_MS, remaining - reserve)) });
};
