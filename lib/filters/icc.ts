/**
 * Is an embedded ICC profile plain sRGB? Then converting through it changes nothing that
 * matters, and libvips's lcms transform costs ~60 ms of CPU per 4K image (docs/benchmarks.md);
 * cv2 and Pillow never apply it. Decided from the profile's own data (its
 * colorants and tone curve), not its name: any other profile (Display P3, Adobe RGB, a pure
 * gamma 2.2 curve) is honoured.
 */

/** sRGB's primaries adapted to the D50 profile connection space, as every sRGB profile states them. */
const SRGB_COLORANTS: Record<string, [number, number, number]> = {
  rXYZ: [0.4361, 0.2225, 0.0139],
  gXYZ: [0.3851, 0.7169, 0.0971],
  bXYZ: [0.1431, 0.0606, 0.7141],
};
const COLORANT_TOLERANCE = 0.002;

function tags(icc: Buffer): Map<string, { offset: number; size: number }> {
  const out = new Map<string, { offset: number; size: number }>();
  if (icc.length < 132) return out;
  const count = icc.readUInt32BE(128);
  for (let i = 0; i < count && 132 + i * 12 + 12 <= icc.length; i++) {
    const o = 132 + i * 12;
    const offset = icc.readUInt32BE(o + 4);
    const size = icc.readUInt32BE(o + 8);
    if (offset + size <= icc.length) out.set(icc.toString('latin1', o, o + 4), { offset, size });
  }
  return out;
}

const s15Fixed16 = (icc: Buffer, at: number) => icc.readInt32BE(at) / 65536;

/** The sRGB tone curve: a parametric curve of gamma 2.4 (type 3 or 4), or a sampled table. */
function isSrgbCurve(icc: Buffer, tag: { offset: number; size: number }): boolean {
  const type = icc.toString('latin1', tag.offset, tag.offset + 4);
  if (type === 'para') {
    const fn = icc.readUInt16BE(tag.offset + 8);
    return (fn === 3 || fn === 4) && Math.abs(s15Fixed16(icc, tag.offset + 12) - 2.4) < 0.01;
  }
  // A table of points (sRGB v2 profiles carry 1024 or 4096); a single entry is a pure gamma.
  return type === 'curv' && icc.readUInt32BE(tag.offset + 8) >= 16;
}

export function isSrgbProfile(icc: Buffer): boolean {
  try {
    if (icc.toString('latin1', 16, 20) !== 'RGB ') return false;
    const t = tags(icc);
    for (const [sig, expected] of Object.entries(SRGB_COLORANTS)) {
      const tag = t.get(sig);
      if (!tag || icc.toString('latin1', tag.offset, tag.offset + 4) !== 'XYZ ') return false;
      for (let k = 0; k < 3; k++) if (Math.abs(s15Fixed16(icc, tag.offset + 8 + 4 * k) - expected[k]) > COLORANT_TOLERANCE) return false;
    }
    return ['rTRC', 'gTRC', 'bTRC'].every((sig) => {
      const tag = t.get(sig);
      return tag !== undefined && isSrgbCurve(icc, tag);
    });
  } catch {
    // A truncated or odd profile: honour it rather than guess.
    return false;
  }
}
