/**
 * The benchmark's reference: a plain process running the same filter chain in a loop, with
 * no queue, S3 or Redis, so k of these show what k processes can do on these cores at all.
 * Usage: node --import tsx bench/bare-worker.ts <filters,comma,separated> <count> [warm-up images, default 1]
 * Prints "ready" once OpenCV is loaded and the warm-up images are done, starts on a line from stdin,
 * prints one JSON line {"ms": [...]}, and exits on a second line.
 */
import { processImage } from '../lib/filters/pipeline';
import { parseFilterSteps } from '../lib/filters/request';
import { SAMPLE_4K } from './common';

async function main() {
  const steps = parseFilterSteps(process.argv[2].split(','), {});
  const count = Number(process.argv[3]);
  const warmup = Number(process.argv[4] ?? 1);
  for (let i = 0; i < warmup; i++) await processImage(Buffer.from(SAMPLE_4K), steps);
  process.stdout.write('ready\n');
  await new Promise((resolve) => process.stdin.once('data', resolve));
  const ms: number[] = [];
  // The same bytes every time, as a worker keeps the source image its tasks share
  // (lib/images/source-cache.ts).
  const input = Buffer.from(SAMPLE_4K);
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await processImage(input, steps);
    ms.push(performance.now() - t);
  }
  process.stdout.write(`${JSON.stringify({ ms })}\n`);
  // Stay until the bench has read this process's CPU time from /proc, then exit.
  await new Promise((resolve) => process.stdin.once('data', resolve));
  process.exit(0);
}

void main();
