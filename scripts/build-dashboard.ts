/**
 * `npm run build:dashboard` (also run by `npm start` and the test setup): bundles the
 * dashboard with esbuild into dashboard/dist — its script with uPlot inlined, one CSS
 * file, the page. Nothing is loaded from a CDN.
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DASHBOARD_DIST } from '../handlers/dashboard';

const ROOT = path.resolve(__dirname, '..');
const SRC = path.join(ROOT, 'dashboard', 'src');

export async function buildDashboard(): Promise<{ bytes: Record<string, number> }> {
  mkdirSync(DASHBOARD_DIST, { recursive: true });
  await build({
    entryPoints: [path.join(SRC, 'app.ts')],
    outfile: path.join(DASHBOARD_DIST, 'app.js'),
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['es2020'],
    sourcemap: false,
    logLevel: 'warning',
  });
  const css = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8') + '\n' + readFileSync(path.join(SRC, 'styles.css'), 'utf8');
  writeFileSync(path.join(DASHBOARD_DIST, 'app.css'), css);
  copyFileSync(path.join(SRC, 'index.html'), path.join(DASHBOARD_DIST, 'index.html'));
  const size = (f: string) => readFileSync(path.join(DASHBOARD_DIST, f)).length;
  return { bytes: { 'app.js': size('app.js'), 'app.css': size('app.css'), 'index.html': size('index.html') } };
}

if (require.main === module) {
  buildDashboard().then(
    ({ bytes }) => console.log(`[dashboard] built dashboard/dist: ${Object.entries(bytes).map(([f, b]) => `${f} ${(b / 1024).toFixed(1)} KiB`).join(', ')}`),
    (e) => {
      console.error(`[dashboard] build failed: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
