/** Tests against real Redis alone: clients on a prefix of the test file's own, and tasks to work on. */
import { randomUUID } from 'node:crypto';
import { closeClients, createClients, type Clients } from '../../lib/core/clients';
import { loadConfig } from '../../lib/core/config';
import { createTasks } from '../../lib/tasks/store';
import { runId } from './stack';

/**
 * Clients on a fresh Redis prefix, handed to `ready` before the file's tests; after them the
 * prefix's keys are deleted and the clients closed.
 */
export function withRedisPrefix(ready: (deps: Clients) => void | Promise<void>): void {
  let deps: Clients;
  beforeAll(async () => {
    deps = createClients(loadConfig({ REDIS_PREFIX: runId() }));
    await ready(deps);
  });
  afterAll(async () => {
    await deps.redis.del(...(await deps.redis.keys(`${deps.config.redis.prefix}:*`)), 'none');
    await closeClients(deps);
  });
}

/** A new pending task of one edges step on the sample; returns its id. */
export async function newTask(deps: Clients): Promise<string> {
  const taskId = randomUUID();
  await createTasks(deps, [{ task_id: taskId, batch_id: randomUUID(), image: 'sample_4k.jpg', steps: [{ name: 'edges', params: {} }] as never, queued_at: Date.now() }]);
  return taskId;
}
