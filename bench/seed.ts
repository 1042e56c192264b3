/**
 * `npm run bench:seed [-- --rounds 7]`
 * This project's filters against the seed's own Python stack (Pillow; native OpenCV for
 * sharpen and edges, bench/seed_stack.py) on the 4K sample: decode → filter → JPEG q90, one
 * process each, interleaved rounds, median wall ms and median CPU ms per image. The
 * goal: every case ≤ 1.5x the seed's time. Ours uses JPEG_CODEC (default libjpeg-turbo); the
 * OpenCV cases also run with the other codec in the same rounds.
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import os from 'node:os';
import sharp from 'sharp';
import { DEFAULT_LIMITS, processImage, type ProcessLimits } from '../lib/filters/pipeline';
import { FILTERS } from '../lib/filters/registry';
import { config } from '../lib/core/config';
import { parseFilterSteps } from '../lib/filters/request';
import { intArg, median, progress, r1, r2, rerunWithImageProcessEnv, ROOT, SAMPLE_4K, table } from './common';

const CASES: { label: string; filters: string[] }[] = [
  { label: 'resize 800x600', filters: ['resize'] },
  { label: 'blur σ3', filters: ['blur'] },
  { label: 'brightness 1.5', filters: ['brightness'] },
  { label: 'sharpen (3x3)', filters: ['sharpen'] },
  { label: 'edges (Canny 50/150, 5x5 pre-blur)', filters: ['edges'] },
  { label: '[sharpen, edges]', filters: ['sharpen', 'edges'] },
];
const PYTHON = '/usr/bin/python3';
const INSTALL = 'sudo apt-get install python3-opencv python3-pil';
const SAMPLE_PATH = path.join(ROOT, 'static', 'sample_4k.jpg');

interface Sample {
  wall: number;
  cpu: number;
  /** Wall ms by stage: decode, each filter, encode (the OpenCV chains; empty for sharp's and Pillow's). */
  stages: Record<string, number>;
}

/** The seed's stack in one long-lived Python process: one line per image, one JSON reply. */
function seedProcess() {
  const child = spawn(PYTHON, [path.join(__dirname, 'seed_stack.py'), SAMPLE_PATH], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error('bench/seed_stack.py exited');
    return JSON.parse(value);
  };
  return {
    next,
    async run(filters: string[]): Promise<Sample> {
      child.stdin.write(`${filters.join(',')}\n`);
      const r = await next();
      return { wall: r.wall_ms, cpu: r.cpu_ms, stages: r.stages_ms ?? {} };
    },
    close() {
      child.stdin.end('\n');
    },
  };
}

/** Cases with an OpenCV step: they get the stage table and the other codec's run. */
const usesOpenCv = (filters: string[]) => filters.some((f) => FILTERS[f].opencvOp);

/** The project's defaults (q90, as the seed), with the codec JPEG_CODEC names. */
const OURS: ProcessLimits = { ...DEFAULT_LIMITS, jpegCodec: config().processing.jpegCodec };

async function ours(filters: string[], limits: ProcessLimits = OURS): Promise<Sample> {
  const steps = parseFilterSteps(filters, {});
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const out = await processImage(SAMPLE_4K, steps, limits);
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const stages = usesOpenCv(filters) ? { decode: out.decode_ms, ...Object.fromEntries(out.filters.map((f) => [f.name, f.ms])), encode: out.encode_ms } : {};
  // Process CPU, so libvips' threads count too, not only the JS thread.
  return { wall, cpu: (c.user + c.system) / 1000, stages };
}

function checkPython(): void {
  const probe = spawnSync(PYTHON, ['-c', 'import cv2, PIL, numpy'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    console.error(`The seed's stack needs Python 3 with OpenCV and Pillow (${(probe.stderr || String(probe.error)).trim().split('\n').pop()}). Install them with:\n  ${INSTALL}`);
    process.exit(2);
  }
}

async function main() {
  checkPython();
  const rounds = intArg('rounds', 7, 1, 100);
  const warmup = 2;
  sharp.cache(false);
  const seed = seedProcess();
  const hello = await seed.next();
  if (hello.missing) {
    console.error(`The seed's stack is missing ${hello.missing}. Install it with:\n  ${INSTALL}`);
    process.exit(2);
  }
  // The OpenCV cases also run with sharp decoding and encoding (JPEG_CODEC=sharp: cv2's pixels
  // exactly) in the same rounds, so what libjpeg-turbo gives shows beside the seed's swings.
  const otherCodec: ProcessLimits = { ...OURS, jpegCodec: OURS.jpegCodec === 'sharp' ? 'libjpeg-turbo' : 'sharp' };
  const samples = CASES.map(() => ({ ours: [] as Sample[], seed: [] as Sample[], other: [] as Sample[] }));
  for (let round = 0; round < warmup + rounds; round++) {
    progress(`round ${round + 1}/${warmup + rounds}${round < warmup ? ' (warm-up)' : ''}`);
    for (const [i, c] of CASES.entries()) {
      const a = await ours(c.filters);
      const b = await seed.run(c.filters);
      const o = usesOpenCv(c.filters) ? await ours(c.filters, otherCodec) : undefined;
      if (round >= warmup) {
        samples[i].ours.push(a);
        samples[i].seed.push(b);
        if (o) samples[i].other.push(o);
      }
    }
  }
  seed.close();

  const rows = CASES.map((c, i) => {
    const o = samples[i].ours;
    const s = samples[i].seed;
    const ow = median(o.map((x) => x.wall));
    const sw = median(s.map((x) => x.wall));
    const ratio = ow / sw;
    return [c.label, r1(ow), r1(sw), `${r2(ratio)}x${ratio <= 1.5 ? '' : ' (> 1.5x)'}`, r1(median(o.map((x) => x.cpu))), r1(median(s.map((x) => x.cpu)))];
  });
  console.log(`\nbench:seed — 4K sample (3840x2160), decode → filter → JPEG q90, one process each; median of ${rounds} interleaved rounds after ${warmup} warm-up`);
  console.log(`node ${process.version}, sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}), OPENCV_BUILD=${config().processing.opencvBuild}, JPEG_CODEC=${OURS.jpegCodec}; OpenCV ${hello.opencv} (python), ${os.cpus().length} CPUs, ${new Date().toISOString()}\n`);
  console.log(table(['case', 'ours ms', 'seed ms', 'ratio', 'ours CPU ms/image', 'seed CPU ms/image'], rows));
  // Where the OpenCV cases spend their time, stage by stage: which part of the chain a ratio comes from.
  const STAGES = ['decode', 'sharpen', 'edges', 'encode'];
  const stageRows = CASES.flatMap((c, i) => {
    const seedStages = samples[i].seed[0]?.stages ?? {};
    if (!Object.keys(seedStages).length) return [];
    const med = (xs: Sample[], k: string) => median(xs.map((x) => x.stages[k] ?? 0));
    return [[c.label, ...STAGES.map((k) => (k in seedStages ? `${r1(med(samples[i].ours, k))} / ${r1(med(samples[i].seed, k))}` : '-'))]];
  });
  if (stageRows.length) {
    console.log('\nThe OpenCV cases stage by stage, ours / seed, median ms. Ours: decode is libjpeg-turbo writing into the WASM heap');
    console.log('(grey for edges and [sharpen, edges]) or, with JPEG_CODEC=sharp, sharp; then the copy into the heap counts to the first filter');
    console.log('and the copy out to the last. sharpen counts the grey conversion when edges follows, edges when it comes first. Seed: edges counts cvtColor.\n');
    console.log(table(['case', ...STAGES], stageRows));
  }
  const otherRows = CASES.flatMap((c, i) => {
    const o = samples[i].other;
    if (!o.length) return [];
    const ow = median(o.map((x) => x.wall));
    const sw = median(samples[i].seed.map((x) => x.wall));
    return [[c.label, r1(median(samples[i].ours.map((x) => x.wall))), r1(ow), r1(sw), `${r2(ow / sw)}x`]];
  });
  if (otherRows.length) {
    console.log(`\nThe same rounds with JPEG_CODEC=${otherCodec.jpegCodec} for the OpenCV cases (median ms):\n`);
    console.log(table(['case', `ours, ${OURS.jpegCodec}`, `ours, ${otherCodec.jpegCodec}`, 'seed', `ratio with ${otherCodec.jpegCodec}`], otherRows));
  }
  process.exit(0);
}

rerunWithImageProcessEnv();
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
