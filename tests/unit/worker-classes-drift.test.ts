/**
 * Worker classes have one definition (lib/worker/classes.ts). serverless.yml's worker
 * functions and docker-compose.yml's worker services spell out WORKER_ID and
 * WORKER_CAPABILITIES, as the original project configured its workers: this test fails
 * when either file drifts from the definition.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { FILTER_NAMES } from '../../lib/filters/registry';
import { BUILT_IN_WORKERS, builtInCapabilities, WORKER_CLASSES } from '../../lib/worker/classes';
import { routeFor, routesServedBy } from '../../lib/tasks/dispatch';
import { resolveIdentity } from '../../lib/worker/registry';

const ROOT = path.resolve(__dirname, '..', '..');
const load = (file: string) => yaml.load(readFileSync(path.join(ROOT, file), 'utf8')) as any;

function capabilitiesOf(declared: unknown): string[] {
  return (String(declared) === 'all' ? [...FILTER_NAMES] : String(declared).split(',')).sort();
}

test('serverless.yml has one worker function per built-in worker, with the capabilities of its class', () => {
  const functions = load('serverless.yml').functions as Record<string, any>;
  const workers = Object.values(functions).filter((f) => f.handler === 'handlers/worker.consume');
  expect(workers.map((f) => f.environment.WORKER_ID).sort()).toEqual(Object.keys(BUILT_IN_WORKERS).sort());
  for (const f of workers) expect(capabilitiesOf(f.environment.WORKER_CAPABILITIES)).toEqual([...builtInCapabilities(f.environment.WORKER_ID)!].sort());
});

test('docker-compose.yml runs every built-in worker with the capabilities of its class', () => {
  const services = load('docker-compose.yml').services as Record<string, any>;
  for (const id of Object.keys(BUILT_IN_WORKERS)) {
    const svc = services[id];
    expect(svc.command).toEqual(['npm', 'run', 'worker', '--', id]);
    expect(capabilitiesOf(svc.environment.WORKER_CAPABILITIES)).toEqual([...builtInCapabilities(id)!].sort());
  }
});

test('every filter belongs to a class, the last class covers all, and each built-in worker serves its own class', () => {
  expect(WORKER_CLASSES[WORKER_CLASSES.length - 1].filters).toEqual(FILTER_NAMES);
  for (const f of FILTER_NAMES) expect(routeFor([f]).filters).toContain(f);
  for (const [id, cls] of Object.entries(BUILT_IN_WORKERS)) {
    expect(resolveIdentity(id, undefined).capabilities).toEqual([...builtInCapabilities(id)!]);
    expect(routesServedBy(builtInCapabilities(id)!).map((r) => r.name)).toContain(cls);
  }
});
