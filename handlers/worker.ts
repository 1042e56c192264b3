import { readyClients } from '../lib/core/clients';
import { config } from '../lib/core/config';
import { resolveIdentity, type WorkerIdentity } from '../lib/worker/registry';
import { createWorkerHandler } from '../lib/worker/handler';
import { sweepDeadLetters } from '../lib/worker/sweeper';

let identity: WorkerIdentity | undefined;

/** One consumer function per worker; WORKER_ID and WORKER_CAPABILITIES come from serverless.yml. */
export const consume = createWorkerHandler(readyClients, () => (identity ??= resolveIdentity(config().workers.id, config().workers.capabilities)));

/** The scheduled `sweeper` function: on AWS no worker process lives between events to sweep. */
export const sweep = async () => sweepDeadLetters(await readyClients());
