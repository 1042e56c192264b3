export default async function globalTeardown(): Promise<void> {
  const stack = globalThis.__STACK__;
  if (stack) await stack.stop('SIGTERM');
}
