import { startStack, type RunningStack } from '../helpers/stack';
import { startWorker, fetchWorkersStatus } from '../helpers/workers';
import { waitFor } from '../../scripts/local/processes';

let stack: RunningStack;

beforeAll(async () => {
  stack = await startStack({ HEARTBEAT_INTERVAL_S: '1', POLL_WAIT_S: '1' }, 'heartbeat');
}, 120_000);
afterAll(() => stack?.stop());

const view = async (id: string) => (await fetchWorkersStatus(stack)).workers.find((w: { id: string }) => w.id === id);

test('a killed worker turns offline after 3 missed heartbeats; a stopped one says stopped', async () => {
  const [w1, w2] = await Promise.all([startWorker(stack, 'worker-1'), startWorker(stack, 'worker-2')]);
  const alive = await view('worker-1');
  expect(alive).toMatchObject({ alive: true, status: 'idle', capabilities: ['resize', 'blur', 'brightness'], pid: w1.child.pid });
  expect(alive.heartbeat_age_s).toBeLessThan(2);

  await w1.stop('SIGKILL');
  const killedAt = Date.now();
  const offline = await waitFor('worker-1 offline', 10_000, async () => {
    const v = await view('worker-1');
    return v.alive ? undefined : v;
  }, 200);
  expect(offline.status).toBe('offline');
  expect(offline.heartbeat_age_s).toBeGreaterThanOrEqual(2.5);
  expect(Date.now() - killedAt).toBeLessThan(6000);

  expect(await w2.stop('SIGTERM')).toBe(0);
  expect(await view('worker-2')).toMatchObject({ alive: false, status: 'stopped' });
  const status = await fetchWorkersStatus(stack);
  expect(status.summary).toMatchObject({ total: 2, alive: 0, offline: 2 });
  expect(status.heartbeat).toEqual({ interval_s: 1, offline_after_s: 3 });
}, 60_000);
