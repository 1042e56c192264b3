// Entry point of the filter pool's worker threads (piscina). Plain JS so a worker can start
// without a TypeScript loader; it registers tsx only when the sources are .ts (local runs).
// A bundled deployment builds this file and pipeline together (see serverless.yml).
'use strict';
const path = require('node:path');
const fs = require('node:fs');

if (fs.existsSync(path.join(__dirname, 'pipeline.ts'))) require('tsx/cjs/api').register();
const { processImage } = require('./pipeline');
const { loadOpenCv } = require('./opencv');

/** Task: { input: Uint8Array, steps, limits } → ProcessedImage (output transferred, not copied). */
module.exports = async function run(task) {
  if (task.warmup) {
    await loadOpenCv();
    return { thread_id: require('node:worker_threads').threadId };
  }
  const input = Buffer.from(task.input.buffer, task.input.byteOffset, task.input.byteLength);
  const result = await processImage(input, task.steps, task.limits);
  return result;
};
