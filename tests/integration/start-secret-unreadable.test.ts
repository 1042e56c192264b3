// A secret reference npm start cannot read stops it at start, naming the variable, rather than
// a stack that answers 500 to every request. The SSM and Secrets Manager calls are real SDK
// calls, sent to a local endpoint that answers as the service does when the parameter is
// missing, or to a port where nothing listens.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '../../scripts/local/processes';
import { isolatedEnv, spawnStart } from '../helpers/stack';

const STACK_TRACE = /\n\s+at .+:\d+:\d+/;
const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };

let ssm: http.Server;
let ssmUrl: string;
const ssmCalls: string[] = [];

beforeAll(async () => {
  ssm = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      ssmCalls.push(`${req.headers['x-amz-target']} ${body}`);
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ __type: 'ParameterNotFound', message: '' }));
    });
  });
  await new Promise<void>((resolve) => ssm.listen(0, '127.0.0.1', resolve));
  ssmUrl = `http://127.0.0.1:${(ssm.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => ssm.close(() => resolve())));

test('API_KEYS_SECRET naming a missing SSM parameter: start refuses, naming the variable', async () => {
  const ref = '/image-pipeline/missing-keys';
  const run = spawnStart(await isolatedEnv({ ...CREDENTIALS, API_KEYS_SECRET: ref, AWS_ENDPOINT_URL_SSM: ssmUrl }), 'secret-missing-parameter');
  expect(await run.done).toBe(2);
  expect(run.output()).toMatch(/\[start\] cannot start: API_KEYS_SECRET=\/image-pipeline\/missing-keys cannot be read \(ParameterNotFound\); fix the reference or its credentials, or unset API_KEYS_SECRET/);
  expect(run.output()).not.toMatch(STACK_TRACE);
  expect(run.output()).not.toMatch(/ready http/);
  // It asked SSM for that parameter, decrypted, before anything else started.
  expect(ssmCalls.some((c) => c.startsWith('AmazonSSM.GetParameter ') && c.includes('"Name":"/image-pipeline/missing-keys"') && c.includes('"WithDecryption":true'))).toBe(true);
});

test('REDIS_URL_SECRET on an unreachable Secrets Manager: start refuses, naming the variable', async () => {
  const closed = `http://127.0.0.1:${await freePort()}`;
  const run = spawnStart(await isolatedEnv({ ...CREDENTIALS, REDIS_URL_SECRET: 'secretsmanager:image-pipeline/redis', AWS_ENDPOINT_URL_SECRETS_MANAGER: closed }), 'secret-unreachable');
  expect(await run.done).toBe(2);
  expect(run.output()).toMatch(/\[start\] cannot start: REDIS_URL_SECRET=secretsmanager:image-pipeline\/redis cannot be read \(.+\); fix the reference or its credentials, or unset REDIS_URL_SECRET/);
  expect(run.output()).not.toMatch(STACK_TRACE);
});

test('WEBHOOK_SECRET_REF naming a missing SSM parameter: start refuses, naming the variable', async () => {
  const ref = '/image-pipeline/missing-webhook-secret';
  const run = spawnStart(await isolatedEnv({ ...CREDENTIALS, WEBHOOK_SECRET_REF: ref, AWS_ENDPOINT_URL_SSM: ssmUrl }), 'secret-missing-webhook');
  expect(await run.done).toBe(2);
  expect(run.output()).toMatch(/\[start\] cannot start: WEBHOOK_SECRET_REF=\/image-pipeline\/missing-webhook-secret cannot be read \(ParameterNotFound\); fix the reference or its credentials, or unset WEBHOOK_SECRET_REF/);
  expect(run.output()).not.toMatch(STACK_TRACE);
  expect(ssmCalls.some((c) => c.includes('"Name":"/image-pipeline/missing-webhook-secret"'))).toBe(true);
});
