/** The stack globalSetup started, and clients pointed at its emulator, bucket and Redis prefix. */
import { createClients, type Clients } from '../../lib/core/clients';
import { loadConfig } from '../../lib/core/config';
import type { StackInfo } from './stack';

export function sharedStack(): StackInfo {
  const raw = process.env.TEST_STACK;
  if (!raw) throw new Error('TEST_STACK is not set: integration tests need tests/helpers/global-setup.ts');
  return JSON.parse(raw) as StackInfo;
}

export function stackClients(stack: StackInfo = sharedStack()): Clients {
  const endpoint = `http://127.0.0.1:${stack.env.EMULATOR_PORT}`;
  return createClients(loadConfig({ ...stack.env, AWS_ENDPOINT_URL: stack.env.AWS_ENDPOINT_URL ?? endpoint }));
}

/** A request whose answer must be JSON; in integration tests the answer is also checked against the OpenAPI document (api-contract-setup.ts). */
export async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${init?.method ?? 'GET'} ${url} answered ${res.status} with non-JSON: ${text.slice(0, 300)}`);
  }
  return { status: res.status, body, headers: res.headers };
}
