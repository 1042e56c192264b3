/** Numbers that say what a filter did to an image. */
import sharp from 'sharp';

export async function grey(input: Buffer | { data: Buffer; width: number; height: number; channels: 1 | 3 }) {
  const s = Buffer.isBuffer(input) ? sharp(input) : sharp(input.data, { raw: { width: input.width, height: input.height, channels: input.channels } });
  const { data, info } = await s.greyscale().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** Variance of the 4-neighbour Laplacian: the usual sharpness measure (higher = sharper). */
export async function laplacianVariance(input: Parameters<typeof grey>[0]): Promise<number> {
  const g = await grey(input);
  const { data, width: w, height: h, channels: c } = g;
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let y = 1; y < h - 1; y += 2) {
    for (let x = 1; x < w - 1; x += 2) {
      const i = (y * w + x) * c;
      const lap = data[i - c] + data[i + c] + data[i - w * c] + data[i + w * c] - 4 * data[i];
      sum += lap;
      sumSq += lap * lap;
      n++;
    }
  }
  const mean = sum / n;
  return sumSq / n - mean * mean;
}

export async function meanLuminance(input: Parameters<typeof grey>[0]): Promise<number> {
  const { data } = await grey(input);
  let s = 0;
  for (const v of data) s += v;
  return s / data.length;
}
