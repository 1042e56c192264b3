/**
 * Integration tests (jest setupFilesAfterEnv): every response a test receives from the API,
 * through fetch directly or through getJson/postJson and the harness, is checked against the
 * OpenAPI document (tests/helpers/api-contract.ts). A response off the contract fails the
 * fetch that got it, and the test in afterEach even if the test caught that error.
 * Responses are the API's by the X-Response-Time-Ms header lib/core/http.ts puts on every one
 * (the emulator's and S3's presigned URLs are not checked).
 */
import { apiContract } from './api-contract';

const realFetch = globalThis.fetch;
const violations: string[] = [];

function requestOf(input: Parameters<typeof fetch>[0], init?: RequestInit): { method: string; path: string } {
  const url = typeof input === 'string' ? new URL(input) : input instanceof URL ? input : new URL(input.url);
  const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
  return { method, path: url.pathname };
}

globalThis.fetch = async function checkedFetch(input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> {
  const res = await realFetch(input, init);
  if (!res.headers.has('x-response-time-ms')) return res;
  const { method, path } = requestOf(input, init);
  const contentType = res.headers.get('content-type') ?? '';
  const body = /json/i.test(contentType) ? await res.clone().text() : undefined;
  const violation = apiContract().check(method, path, res.status, contentType, body);
  if (violation) {
    violations.push(violation);
    throw new Error(`response off the OpenAPI document: ${violation}`);
  }
  return res;
};

afterEach(() => {
  const found = violations.splice(0);
  if (found.length) throw new Error(`responses off the OpenAPI document:\n${found.join('\n')}`);
});
