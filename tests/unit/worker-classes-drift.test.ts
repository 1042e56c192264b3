/**
 * Worker classes have one definition (lib/tasks/dispatch.ts). serverless.yml's worker
 * functions, class queues and roles are generated from it (scripts/aws/stack.ts);
 * docker-compose.yml's worker services spell out WORKER_ID and WORKER_CAPABILITIES, as the
 * original project configured its workers: this test fails when either drifts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { FILTER_NAMES } from '../../lib/filters/registry';
import { BUILT_IN_WORKERS, builtInCapabilities } from '../../lib/worker/classes';
import { routeFor, routesServedBy, WORKER_CLASSES } from '../../lib/tasks/dispatch';
import { resolveIdentity } from '../../lib/worker/registry';

const ROOT = path.resolve(__dirname, '..', '..');
const load = (file: string) => yaml.load(readFileSync(path.join(ROOT, file), 'utf8')) as any;

function capabilitiesOf(declared: unknown): string[] {
  return (String(declared) === 'all' ? [...FILTER_NAMES] : String(declared).split(',')).sort();
}

test('serverless.yml keeps no second list of workers: its worker functions are generated from the definition', () => {
  const text = readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8');
  // Hand-written worker functions or class queues here could disagree with lib/tasks/dispatch.ts.
  expect(text).not.toMatch(/handlers\/worker\.consume|WORKER_CAPABILITIES|worker-[0-9]|-io\.fifo|-cpu\.fifo/);
  expect(text).toContain('${file(./scripts/aws/serverless-parts.cjs):workerFunctions}');
  expect(text).toContain('${file(./scripts/aws/serverless-parts.cjs):resources}');
  // tests/unit/aws-package.test.ts and aws-capability-stage.test.ts check what the generator makes of it.
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
