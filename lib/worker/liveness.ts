/**
 * Which workers are alive, chosen by WORKER_LIVENESS. Locally, worker processes beat into Redis
 * (lib/worker/registry.ts). On Lambda a worker function runs only while a message is being
 * handled, so a missing beat says nothing; what decides whether it will take the next task is
 * its SQS event-source mapping: enabled = alive, disabled = stopped (the AWS form of the seed's
 * "stop worker-3"). Counts and last invocation still come from Redis; pids and hosts of Lambda
 * sandboxes mean nothing and are not shown.
 */
import { LambdaClient, ListEventSourceMappingsCommand, type EventSourceMappingConfiguration } from '@aws-sdk/client-lambda';
import { lambdaClient, type Clients } from '../core/clients';
import { toDependencyError } from '../core/dependencies';
import { builtInCapabilities } from './classes';
import { listWorkers, type WorkerView } from './registry';

export interface WorkerLiveness {
  list(deps: Clients): Promise<WorkerView[]>;
}

export type MappingVerdict = { alive: boolean; status: 'running' | 'stopped' | 'offline'; mapping_state: string };

const RUNNING = new Set(['Enabled', 'Enabling', 'Updating']);
const STOPPED = new Set(['Disabled', 'Disabling']);

/** A function's mappings → its state: alive while any mapping consumes, stopped when all were disabled. */
export function verdictFromMappings(states: (string | undefined)[]): MappingVerdict {
  if (states.length === 0) return { alive: false, status: 'offline', mapping_state: 'none' };
  const running = states.find((s) => s !== undefined && RUNNING.has(s));
  if (running) return { alive: true, status: 'running', mapping_state: running };
  if (states.every((s) => s !== undefined && STOPPED.has(s))) return { alive: false, status: 'stopped', mapping_state: states.join(',') };
  // Creating, Deleting, unknown: not taking messages now.
  return { alive: false, status: 'offline', mapping_state: states.join(',') };
}

/** Redis's view of a worker (if it ever ran) merged with its mapping verdict. */
export function workerFromMapping(id: string, recorded: WorkerView | undefined, verdict: MappingVerdict): WorkerView & { mapping_state: string; last_invocation: string | null } {
  const busy = verdict.alive && recorded?.status === 'busy';
  return {
    id,
    capabilities: recorded?.capabilities ?? [...(builtInCapabilities(id) ?? [])],
    alive: verdict.alive,
    status: busy ? 'busy' : verdict.alive ? 'idle' : verdict.status === 'stopped' ? 'stopped' : 'offline',
    current_task: busy ? recorded!.current_task : null,
    // On Lambda the last beat is the last invocation: shown as such, not as an age that means "dead".
    heartbeat_age_s: null,
    last_invocation: recorded?.heartbeat_age_s != null ? new Date(Date.now() - recorded.heartbeat_age_s * 1000).toISOString() : null,
    processed: recorded?.processed ?? 0,
    failed: recorded?.failed ?? 0,
    mean_processing_ms: recorded?.mean_processing_ms ?? null,
    pid: null,
    host: null,
    started_at: null,
    mapping_state: verdict.mapping_state,
  };
}

export async function mappingStates(client: LambdaClient, functionName: string): Promise<(string | undefined)[]> {
  const all: EventSourceMappingConfiguration[] = [];
  let marker: string | undefined;
  do {
    const out = await client.send(new ListEventSourceMappingsCommand({ FunctionName: functionName, Marker: marker }));
    all.push(...(out.EventSourceMappings ?? []));
    marker = out.NextMarker;
  } while (marker);
  return all.map((m) => m.State);
}

export const heartbeatLiveness: WorkerLiveness = { list: listWorkers };

export function eventSourceMappingLiveness(client?: LambdaClient): WorkerLiveness {
  return {
    async list(deps) {
      const lambda = client ?? lambdaClient(deps.config);
      const recorded = new Map((await listWorkers(deps)).map((w) => [w.id, w]));
      const fns = Object.entries(deps.config.workers.functions);
      const verdicts = await Promise.all(
        fns.map(async ([, fn]) => {
          try {
            return verdictFromMappings(await mappingStates(lambda, fn));
          } catch (e) {
            // Any failure here (also a 4xx such as AccessDenied) means status cannot be told: 503, raw error to the log.
            throw toDependencyError('lambda', e);
          }
        }),
      );
      return fns.map(([id], i) => workerFromMapping(id, recorded.get(id), verdicts[i])).sort((a, b) => a.id.localeCompare(b.id));
    },
  };
}

/** The workers as the configured liveness sees them. */
export function listWorkerViews(deps: Clients): Promise<WorkerView[]> {
  return (deps.config.workers.liveness === 'event-source-mapping' ? eventSourceMappingLiveness() : heartbeatLiveness).list(deps);
}
