/** What an AWS SDK client sent: the input of each call of one command, in order, recorded client-side from now on. */
export function recordCalls<Input = Record<string, unknown>>(client: { middlewareStack: { add: (...args: any[]) => void } }, commandName: string): Input[] {
  const inputs: Input[] = [];
  client.middlewareStack.add(
    (next: (args: { input: unknown }) => unknown, context: { commandName?: string }) => (args: { input: unknown }) => {
      if (context.commandName === commandName) inputs.push(args.input as Input);
      return next(args);
    },
    { step: 'initialize', name: `recordCalls-${commandName}-${Math.random()}` },
  );
  return inputs;
}
