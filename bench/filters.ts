/**
 * `npm run bench:filters [-- --rounds 7]`
 * Each filter on the 4K sample through our pipeline (processImage), against (a) the raw
 * library call doing the same work and (b) the JPEG decode+encode floor. Median of
 * interleaved rounds; target: our overhead over the raw call ≤ 15%.
 */
import os from 'node:os';
import sharp from 'sharp';
import { loadOpenCv } from '../lib/filters/opencv';
import { DEFAULT_LIMITS, processImage } from '../lib/filters/pipeline';
import { parseFilterSteps } from '../lib/filters/request';
import { interleaved, intArg, progress, r1, r2, rerunWithImageProcessEnv, SAMPLE_4K, table } from './common';

// The project's encoder settings, so the raw calls differ from processImage only in the pipeline.
const JPEG = { quality: DEFAULT_LIMITS.jpegQuality, optimiseCoding: DEFAULT_LIMITS.jpegOptimizeCoding };

async function main() {
  const rounds = intArg('rounds', 7, 1, 100);
  sharp.cache(false);
  const { cv } = await loadOpenCv();

  const decodeRaw = async () => {
    const { data, info } = await sharp(SAMPLE_4K).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    return { data, w: info.width, h: info.height };
  };
  const encode = (data: Buffer, w: number, h: number, channels: 1 | 3) => {
    const p = sharp(data, { raw: { width: w, height: h, channels } });
    return (channels === 1 ? p.toColourspace('b-w') : p).jpeg(JPEG).toBuffer();
  };
  /** Hand-written OpenCV.js calls, the way its docs show them, with the Mats deleted. */
  const cvRaw = async (op: (src: any, dst: any) => void, outChannels: 1 | 3) => {
    const { data, w, h } = await decodeRaw();
    const src = new cv.Mat(h, w, cv.CV_8UC3);
    const dst = new cv.Mat();
    try {
      src.data.set(data);
      op(src, dst);
      return encode(Buffer.from(dst.data), w, h, outChannels);
    } finally {
      src.delete();
      dst.delete();
    }
  };

  const raw: Record<string, () => Promise<unknown>> = {
    resize: () => sharp(SAMPLE_4K).rotate().resize(800, 600, { fit: 'cover' }).jpeg(JPEG).toBuffer(),
    blur: () => sharp(SAMPLE_4K).rotate().blur(3).jpeg(JPEG).toBuffer(),
    brightness: () => sharp(SAMPLE_4K).rotate().linear(1.5, 0).jpeg(JPEG).toBuffer(),
    sharpen: () =>
      cvRaw((src, dst) => {
        const k = cv.matFromArray(3, 3, cv.CV_32F, [0, -1, 0, -1, 5, -1, 0, -1, 0]);
        cv.filter2D(src, dst, cv.CV_8U, k, new cv.Point(-1, -1), 0, cv.BORDER_DEFAULT);
        k.delete();
      }, 3),
    edges: () =>
      cvRaw((src, dst) => {
        const g = new cv.Mat();
        const b = new cv.Mat();
        cv.cvtColor(src, g, cv.COLOR_RGB2GRAY);
        cv.GaussianBlur(g, b, new cv.Size(5, 5), 0, 0, cv.BORDER_DEFAULT);
        cv.Canny(b, dst, 50, 150);
        g.delete();
        b.delete();
      }, 1),
  };
  const floor = () => sharp(SAMPLE_4K).rotate().jpeg(JPEG).toBuffer();

  const rows: (string | number)[][] = [];
  let worst = 0;
  for (const name of Object.keys(raw)) {
    progress(`${name}: ${rounds} interleaved rounds of ours / raw call / floor`);
    const steps = parseFilterSteps([name], {});
    const m = await interleaved({ ours: () => processImage(SAMPLE_4K, steps), raw: raw[name], floor }, rounds);
    const overhead = m.ours / m.raw - 1;
    worst = Math.max(worst, overhead);
    rows.push([name, r1(m.ours), r1(m.raw), r1(m.floor), `${r1(overhead * 100)}%`, r2(m.ours / m.floor), r2(m.raw / m.floor)]);
  }
  console.log(`\n### Filters on the 4K sample (3840x2160 JPEG, q${JPEG.quality}, optimiseCoding ${JPEG.optimiseCoding}); median of ${rounds} interleaved rounds, ms\n`);
  console.log(`${os.cpus().length} cores, Node ${process.version}, sharp ${sharp.versions.sharp} (libvips ${sharp.versions.vips}), sharp.cache(false)\n`);
  console.log(table(['filter', 'ours', 'raw call', 'floor (decode+encode)', 'ours vs raw', 'ours / floor', 'raw / floor'], rows));
  console.log(`\nWorst overhead over the raw call: ${r1(worst * 100)}% (target ≤ 15%).`);
}

rerunWithImageProcessEnv();
void main();
