'use strict';
// Runs one function of the unzipped aws artifact the way the Lambda Node runtime does: a fresh
// process, cwd = the task root, `require(<task root>/<file>.js)[export](event, context)` once
// per event (a warm container serves events one after another). The test copies this file
// into a temp dir of its own, so nothing here can resolve modules from the repository.
// Usage: node invoker.cjs <job.json> <result.json>
//   job: { taskRoot, handler: "handlers/health.check", functionName, events: [...], timeoutMs? }
//   (timeoutMs: the function's time per event, what getRemainingTimeInMillis counts down from)
const { randomUUID } = require('node:crypto');
const { readFileSync, writeFileSync } = require('node:fs');
const Module = require('node:module');
const path = require('node:path');

const [jobFile, resultFile] = process.argv.slice(2);
const job = JSON.parse(readFileSync(jobFile, 'utf8'));

async function main() {
  const dot = job.handler.lastIndexOf('.');
  const file = path.join(job.taskRoot, `${job.handler.slice(0, dot)}.js`);
  const exportName = job.handler.slice(dot + 1);
  const handler = require(file)[exportName];
  if (typeof handler !== 'function') throw new Error(`${job.handler}: ${exportName} is not a function exported by ${file}`);
  const results = [];
  for (const event of job.events) {
    const deadline = Date.now() + (job.timeoutMs ?? 60_000);
    const context = {
      awsRequestId: randomUUID(),
      functionName: job.functionName,
      functionVersion: '$LATEST',
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    };
    results.push(await handler(event, context));
  }
  // Where the bundle's external packages resolve from, as the handler file itself requires them.
  const requireFromHandler = Module.createRequire(file);
  const resolved = {};
  for (const name of ['sharp', 'piscina', '@techstark/opencv-js']) {
    try {
      resolved[name] = requireFromHandler.resolve(name);
    } catch (e) {
      resolved[name] = `unresolvable: ${e.message.split('\n')[0]}`;
    }
  }
  return { results, node: process.version, execPath: process.execPath, cwd: process.cwd(), resolved, loadedModules: Object.keys(require.cache) };
}

main().then(
  (report) => {
    writeFileSync(resultFile, JSON.stringify(report));
    // Redis connections and pool threads would keep the process alive; Lambda freezes it instead.
    process.exit(0);
  },
  (e) => {
    writeFileSync(resultFile, JSON.stringify({ error: e && e.stack ? e.stack : String(e) }));
    process.exit(1);
  },
);
