/**
 * The local bucket expires what the aws stage's lifecycle rules expire: results under
 * processed/ after RESULT_TTL_DAYS, staged large uploads under uploads/ after
 * UPLOAD_TTL_HOURS; source images are kept. A restart does not recompute an expired result.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { closeClients, type Clients } from '../../lib/core/clients';
import { waitFor } from '../../scripts/local/processes';
import { postJson } from '../helpers/batch';
import { getJson, stackClients } from '../helpers/shared-stack';
import { isolatedEnv, ROOT, startStack, type RunningStack } from '../helpers/stack';
import { submit, waitForTask } from '../helpers/workers';

const exists = (deps: Clients, key: string) =>
  deps.s3.send(new HeadObjectCommand({ Bucket: deps.config.aws.bucket, Key: key })).then(
    () => true,
    () => false,
  );

let dataDir: string;
const stacks: RunningStack[] = [];
afterAll(async () => {
  for (const s of stacks) await s.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

test('results and staged uploads older than their retention are removed; sources stay; a restart does not bring them back', async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'local-retention-'));
  // About 3 s for both, looked at every second.
  const env = await isolatedEnv({ LOCAL_DATA_DIR: dataDir, RESULT_TTL_DAYS: '0.000035', UPLOAD_TTL_HOURS: '0.00085', RETENTION_SWEEP_S: '1', WORKERS: 'worker-1' });
  const stack = await startStack(env, 'local-retention');
  stacks.push(stack);
  const deps = stackClients(stack);
  try {
    const [taskId] = await submit(stack, { filters: ['blur'], images: ['misurina-sunset.jpg'] });
    const task = await waitForTask(stack, taskId, (t) => t.status === 'completed', 60_000);
    const batch = await postJson(`${stack.url}/api/process-batch/sequential/`, { filters: ['brightness'], images: ['sample_4k.jpg'] });
    expect(batch.status).toBe(200);
    const batchKey = batch.body.results[0].key as string;
    const photo = readFileSync(path.join(ROOT, 'static', 'misurina-sunset.jpg'));
    const staged = await postJson(`${stack.url}/api/images/uploads/`, { name: 'staged.jpg', bytes: photo.length });
    expect(staged.status).toBe(201);
    expect((await fetch(staged.body.url, { method: 'PUT', headers: staged.body.headers, body: new Uint8Array(photo) })).status).toBe(200);
    const stagedKey = decodeURIComponent(new URL(staged.body.url).pathname).split('/').slice(2).join('/');
    expect(stagedKey).toMatch(/^uploads\//);
    expect(await exists(deps, task.result.key)).toBe(true);
    expect(await exists(deps, batchKey)).toBe(true);
    expect(await exists(deps, stagedKey)).toBe(true);

    await waitFor('expired objects removed', 30_000, async () => {
      const left = await Promise.all([task.result.key, batchKey, stagedKey].map((k) => exists(deps, k)));
      return left.every((x) => !x) ? true : undefined;
    }, 250);
    expect(stack.output()).toMatch(/retention: removed [1-9]\d* result\(s\) older than RESULT_TTL_DAYS=0\.000035 and \d+ staged upload\(s\)/);
    expect(await exists(deps, 'source/misurina-sunset.jpg')).toBe(true);
    expect(await exists(deps, 'source/sample_4k.jpg')).toBe(true);
  } finally {
    await closeClients(deps);
  }

  await stack.stop();
  const again = await startStack({ ...env, RETENTION_SWEEP_S: '3600' }, 'local-retention-again');
  stacks.push(again);
  expect(again.output()).not.toMatch(/missing result\(s\) being recomputed/);
  const [first] = (await getJson(`${again.url}/api/jobs/`)).body.jobs;
  expect(first.status).toBe('completed');
}, 180_000);
