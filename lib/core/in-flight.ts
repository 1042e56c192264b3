/**
 * Calls that start while an identical one is still on the wire share its answer (or its
 * error) instead of asking again: a burst of requests for the same thing costs the dependency
 * one call. Nothing is kept once the call settles, so a call that starts later asks afresh:
 * each caller gets an answer no older than a call that overlapped its own request.
 */
export class InFlight<T> {
  private readonly calls = new Map<string, Promise<T>>();

  run(key: string, call: () => Promise<T>): Promise<T> {
    const shared = this.calls.get(key);
    if (shared) return shared;
    const p = call().finally(() => this.calls.delete(key));
    this.calls.set(key, p);
    return p;
  }
}
