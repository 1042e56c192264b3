/**
 * `npm run bench:strategies [-- --images 8 --rounds 3 --iterations 200]`
 * The seed's Day-2 comparison on the host it runs on: sequential / threading / multiprocessing
 * for [resize, blur] (sharp) and [sharpen, edges] (OpenCV.js) on N copies of the 4K
 * sample, measured round-robin in one run; then RSS across many OpenCV iterations.
 */
import os from 'node:os';
import sharp from 'sharp';
import { startMonitor } from '../lib/batch/monitor';
import { execute, STRATEGIES, type Job, type Strategy } from '../lib/batch/strategies';
import { loadOpenCv } from '../lib/filters/opencv';
import { DEFAULT_LIMITS, processImage } from '../lib/filters/pipeline';
import { closePool, filterPool, poolSize } from '../lib/filters/pool';
import { parseFilterSteps } from '../lib/filters/request';
import { intArg, median, progress, r1, r2, rerunWithImageProcessEnv, SAMPLE_4K, table } from './common';

async function main() {
  const images = intArg('images', 8, 2, 64);
  const rounds = intArg('rounds', 3, 1, 20);
  const iterations = intArg('iterations', 200, 0, 2000);
  sharp.cache(false);
  const threads = poolSize();
  const opts = { concurrency: 4, poolThreads: threads };
  const jobs: Job[] = Array.from({ length: images }, (_, i) => ({ index: i, image: 'sample_4k.jpg', copy: i, input: SAMPLE_4K }));
  progress(`warming the pool (${threads} threads) and OpenCV in this thread`);
  await filterPool(threads);
  await loadOpenCv();

  const workloads: [string, string[]][] = [
    ['resize, blur', ['resize', 'blur']],
    ['sharpen, edges', ['sharpen', 'edges']],
  ];
  const rows: (string | number)[][] = [];
  for (const [label, filters] of workloads) {
    const steps = parseFilterSteps(filters, {});
    const walls: Record<Strategy, number[]> = { sequential: [], threading: [], multiprocessing: [] };
    const peaks: Record<Strategy, number[]> = { sequential: [], threading: [], multiprocessing: [] };
    await execute('sequential', jobs.slice(0, 1), steps, DEFAULT_LIMITS, opts); // warm code paths
    for (let round = 1; round <= rounds; round++) {
      for (const s of STRATEGIES) {
        progress(`[${label}] round ${round}/${rounds}: ${s} on ${images} 4K images`);
        const stop = startMonitor();
        await execute(s, jobs, steps, DEFAULT_LIMITS, opts);
        const rep = stop();
        walls[s].push(rep.wall_ms);
        peaks[s].push(rep.memory_mb.rss_peak);
      }
    }
    const base = median(walls.sequential);
    for (const s of STRATEGIES) {
      const w = median(walls[s]);
      rows.push([label, s, r1(w), r2(base / w), r1((images / w) * 1000), r1(Math.max(...peaks[s]))]);
    }
  }
  console.log(`\n### Strategies: ${images} copies of the 4K sample, median of ${rounds} round-robin rounds\n`);
  console.log(`${os.cpus().length} cores, Node ${process.version}, pool ${threads} worker threads (piscina), threading bound 4 in flight, UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? 4}\n`);
  console.log(table(['filters', 'strategy', 'wall ms', 'speed-up vs sequential', 'images/s', 'peak RSS MiB (process)'], rows));

  if (iterations > 0) {
    const steps = parseFilterSteps(['sharpen', 'edges'], {});
    const { cv } = await loadOpenCv();
    const samples: (string | number)[][] = [];
    const every = Math.max(1, Math.floor(iterations / 10));
    let first = 0;
    let last = 0;
    for (let i = 1; i <= iterations; i++) {
      await processImage(SAMPLE_4K, steps);
      if (i % every === 0 || i === 1) {
        const rss = process.memoryUsage.rss() / 2 ** 20;
        if (i === 1) first = rss;
        last = rss;
        samples.push([i, r1(rss), r1(cv.HEAPU8.length / 2 ** 20)]);
        progress(`opencv iterations ${i}/${iterations}: RSS ${r1(rss)} MiB`);
      }
    }
    console.log(`\n### RSS across ${iterations} sharpen+edges iterations at 4K (in this thread)\n`);
    console.log(table(['iteration', 'RSS MiB', 'WASM heap MiB'], samples));
    console.log(`\nRSS after iteration 1: ${r1(first)} MiB; after ${iterations}: ${r1(last)} MiB (${r1(((last - first) / first) * 100)}%).`);
  }
  await closePool();
}

rerunWithImageProcessEnv();
void main();
