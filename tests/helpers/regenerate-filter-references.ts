/**
 * Regenerates tests/fixtures/filter-reference/ from the current filter code. Run it only when a
 * change to sharpen or edges is meant to change their pictures: the reference test exists to
 * catch changes that were not.   npx tsx tests/helpers/regenerate-filter-references.ts
 */
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { REFERENCE_CASES, REFERENCE_DIR, referencePixels } from './filter-reference';

async function main() {
  mkdirSync(REFERENCE_DIR, { recursive: true });
  for (const c of REFERENCE_CASES) {
    const px = await referencePixels(c);
    const file = path.join(REFERENCE_DIR, c.file);
    await sharp(px.data, { raw: { width: px.width, height: px.height, channels: px.channels as 1 | 3 } })
      .png({ compressionLevel: 9, ...(c.kind === 'edges' ? { palette: true, colours: 2 } : {}) })
      .toFile(file);
    console.log(`${c.file}: ${px.width}x${px.height}x${px.channels}, ${statSync(file).size} bytes`);
  }
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
