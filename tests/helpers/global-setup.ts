import { buildDashboard } from '../../scripts/build-dashboard';
import { startStack, type RunningStack } from './stack';

declare global {
  // eslint-disable-next-line no-var
  var __STACK__: RunningStack | undefined;
}

export default async function globalSetup(): Promise<void> {
  // `npm start` builds the dashboard in prestart; the tests start scripts/start.ts directly.
  await buildDashboard();
  const stack = await startStack({}, 'shared-stack');
  globalThis.__STACK__ = stack;
  // Test workers are forked after this and inherit the variable.
  process.env.TEST_STACK = JSON.stringify({ url: stack.url, env: stack.env, pid: stack.pid, logFile: stack.logFile });
}
