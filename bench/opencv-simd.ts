/**
 * `npx tsx bench/opencv-simd.ts [--rounds 7] [--build path/to/opencv_js.js]...`
 * OpenCV.js kernels on the 4K sample, @techstark/opencv-js 4.12 (scalar WASM) against
 * the WASM-SIMD build of OpenCV 4.6 (scripts/build-opencv-simd.sh), and any other builds given
 * with --build (e.g. the scalar twin, to tell SIMD from version), loaded side by side in one
 * process. Kernels are timed Mat to Mat inside the WASM heap, interleaved build by build, round
 * by round, and their outputs compared with @techstark's.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { loadOpenCvBuild, type OpenCv } from '../lib/filters/opencv';
import { median, progress, r1, r2, ROOT, SAMPLE_4K, table } from './common';

/* eslint-disable @typescript-eslint/no-explicit-any */

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '7' }, build: { type: 'string', multiple: true } }, strict: true });
const ROUNDS = Number(values.rounds);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 100) {
  console.error('--rounds must be an integer from 1 to 100');
  process.exit(2);
}
const DEFAULT_SIMD = path.join(ROOT, 'vendor', 'opencv-simd', 'opencv_js.js');
const EXTRA = values.build ?? (existsSync(DEFAULT_SIMD) ? [DEFAULT_SIMD] : []);
if (EXTRA.length === 0) {
  console.error(`no SIMD build: run scripts/build-opencv-simd.sh, then pass --build <.../bin/opencv_js.js>`);
  process.exit(2);
}

interface Kernel {
  name: string;
  /** Runs the kernel on prepared inputs, returns the output Mat (deleted by the caller). */
  run: (cv: OpenCv, inp: Inputs) => any;
}
interface Inputs {
  rgb: any;
  grey: any;
  blurred: any;
  kernel: any;
}

// The project's operations and parameters (lib/filters/registry.ts: `edges`, and `sharpen` at
// strength 1).
const KERNELS: Kernel[] = [
  { name: 'cvtColor RGB→grey', run: (cv, i) => op(cv, (d) => cv.cvtColor(i.rgb, d, cv.COLOR_RGB2GRAY)) },
  { name: 'GaussianBlur 5x5 grey', run: (cv, i) => op(cv, (d) => cv.GaussianBlur(i.grey, d, new cv.Size(5, 5), 0, 0, cv.BORDER_DEFAULT)) },
  { name: 'Canny 50/150 (blurred grey)', run: (cv, i) => op(cv, (d) => cv.Canny(i.blurred, d, 50, 150)) },
  { name: 'filter2D 3x3 RGB', run: (cv, i) => op(cv, (d) => cv.filter2D(i.rgb, d, cv.CV_8U, i.kernel, new cv.Point(-1, -1), 0, cv.BORDER_DEFAULT)) },
];

function op(cv: OpenCv, f: (dst: any) => void) {
  const dst = new cv.Mat();
  f(dst);
  return dst;
}

function prepare(cv: OpenCv, rgbPixels: Buffer, w: number, h: number): Inputs {
  const rgb = new cv.Mat(h, w, cv.CV_8UC3);
  rgb.data.set(rgbPixels);
  // Each build derives its own intermediates, so Canny's input is what that build's blur gives
  // (the project chains them the same way); equal outputs below then mean equal chains.
  const grey = new cv.Mat();
  cv.cvtColor(rgb, grey, cv.COLOR_RGB2GRAY);
  const blurred = new cv.Mat();
  cv.GaussianBlur(grey, blurred, new cv.Size(5, 5), 0, 0, cv.BORDER_DEFAULT);
  const kernel = cv.matFromArray(3, 3, cv.CV_32F, [0, -1, 0, -1, 5, -1, 0, -1, 0]);
  return { rgb, grey, blurred, kernel };
}

function compare(a: Buffer, b: Buffer): { identical: number; maxDiff: number } {
  if (a.length !== b.length) return { identical: 0, maxDiff: Infinity };
  let same = 0;
  let maxDiff = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d === 0) same++;
    else if (d > maxDiff) maxDiff = d;
  }
  return { identical: same / a.length, maxDiff };
}

async function main() {
  sharp.cache(false);
  const { data, info } = await sharp(SAMPLE_4K).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const builds: { label: string; cv: OpenCv; loadMs: number }[] = [];
  for (const spec of ['techstark', ...EXTRA]) {
    const t0 = performance.now();
    const cv = spec === 'techstark' ? await loadOpenCvBuild('techstark') : await loadOpenCvBuild({ path: path.resolve(spec) });
    const loadMs = performance.now() - t0;
    const label = spec === 'techstark' ? 'techstark 4.12' : path.relative(ROOT, path.resolve(spec));
    builds.push({ label, cv, loadMs });
    progress(`loaded ${label} in ${r1(loadMs)} ms`);
  }
  const inputs = builds.map((b) => prepare(b.cv, data, info.width, info.height));

  // Outputs first (also a warm-up), then the timed rounds.
  const outputs = builds.map((b, bi) =>
    KERNELS.map((k) => {
      const m = k.run(b.cv, inputs[bi]);
      const copy = Buffer.from(m.data);
      m.delete();
      return copy;
    }),
  );
  const times = builds.map(() => KERNELS.map(() => [] as number[]));
  for (let round = 0; round < ROUNDS + 1; round++) {
    for (const [ki, k] of KERNELS.entries()) {
      // Alternate which build goes first, so neither always runs on a cache the other warmed.
      const order = builds.map((_, i) => i);
      if (round % 2) order.reverse();
      for (const bi of order) {
        const t0 = performance.now();
        const m = k.run(builds[bi].cv, inputs[bi]);
        const ms = performance.now() - t0;
        m.delete();
        if (round > 0) times[bi][ki].push(ms);
      }
    }
    progress(`round ${round}/${ROUNDS}${round === 0 ? ' (warm-up)' : ''}`);
  }

  const base = 0;
  const rows: (string | number)[][] = [];
  for (const [ki, k] of KERNELS.entries()) {
    const baseMs = median(times[base][ki]);
    for (const [bi, b] of builds.entries()) {
      const ms = median(times[bi][ki]);
      const cmp = bi === base ? undefined : compare(outputs[bi][ki], outputs[base][ki]);
      rows.push([
        k.name,
        b.label,
        r1(ms),
        `${r1(Math.min(...times[bi][ki]))}–${r1(Math.max(...times[bi][ki]))}`,
        bi === base ? '1' : `${r2(ms / baseMs)}x`,
        cmp ? `${r2(cmp.identical * 100)}% equal${cmp.maxDiff ? `, max diff ${cmp.maxDiff}` : ''}` : 'reference',
      ]);
    }
  }
  console.log(`node ${process.version}, ${ROUNDS} rounds (+1 warm-up), 4K sample ${info.width}x${info.height}, median ms per kernel call, Mat to Mat in the WASM heap\n`);
  console.log(table(['kernel', 'build', 'median ms', 'min–max', 'vs techstark', 'output vs techstark'], rows));
  console.log('\nload (require + init) ms: ' + builds.map((b) => `${b.label} ${r1(b.loadMs)}`).join(', '));
  for (const [bi, b] of builds.entries()) {
    for (const m of Object.values(inputs[bi])) m.delete();
    console.log(`${b.label}: WASM heap ${b.cv.HEAPU8.length / 2 ** 20} MiB`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
