import { psnr, REFERENCE_CASES, readReference, referencePixels } from '../helpers/filter-reference';

// Faster implementations of sharpen and edges must draw the same pictures as the code that
// generated tests/fixtures/filter-reference (tests/helpers/regenerate-filter-references.ts): within JPEG noise
// for sharpen, near-identical edge maps (a pixel moved along an edge is allowed, a new
// algorithm is not).

function identicalShare(a: Buffer, b: Buffer): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

test.each(REFERENCE_CASES)('$filters matches its stored reference ($file)', async (c) => {
  const [now, ref] = await Promise.all([referencePixels(c), readReference(c)]);
  expect([now.width, now.height, now.channels]).toEqual([ref.width, ref.height, ref.channels]);
  if (c.kind === 'sharpen') expect(psnr(now.data, ref.data)).toBeGreaterThanOrEqual(40);
  else {
    expect(identicalShare(now.data, ref.data)).toBeGreaterThanOrEqual(0.98);
    // An all-black map would be ~97% identical to a sparse edge map: the edges must be there.
    const edgesNow = now.data.reduce((n, v) => n + (v ? 1 : 0), 0);
    const edgesRef = ref.data.reduce((n, v) => n + (v ? 1 : 0), 0);
    expect(edgesNow).toBeGreaterThan(edgesRef * 0.9);
  }
}, 60_000);
