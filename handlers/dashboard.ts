import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DASHBOARD_ASSETS, DashboardAssetPath, dashboardSnapshot } from '../lib/observability/dashboard';
import { DependencyUnavailableError } from '../lib/core/errors';
import { httpHandler, json } from '../lib/core/http';
import { parseWith } from '../lib/core/validate';

// The only files this serves: a fixed map, never a path taken from the request.
// Relative to this file, which esbuild's bundle keeps at handlers/: scripts/build-dashboard.ts
// writes here too, so both read this one constant.
export const DASHBOARD_DIST = path.resolve(__dirname, '..', 'dashboard', 'dist');

/** GET /api/dashboard/ — the one aggregated request the page makes per tick. */
export const data = httpHandler(async (_req, deps) => json(200, await dashboardSnapshot(deps)));

/** GET /dashboard/ and /dashboard/{app.js,app.css} */
export const page = httpHandler(async (req) => {
  const asset = req.pathParams.asset === undefined ? 'index.html' : parseWith(DashboardAssetPath, req.pathParams).asset;
  let body: string;
  try {
    body = await readFile(path.join(DASHBOARD_DIST, asset), 'utf8');
  } catch {
    throw new DependencyUnavailableError('dashboard', 'the dashboard is not built; run `npm run build:dashboard` (npm start does it)');
  }
  return { statusCode: 200, headers: { 'content-type': DASHBOARD_ASSETS[asset], 'cache-control': 'no-cache' }, body };
}, { public: true });

/** GET / — where to go. */
export const root = httpHandler(async () => ({
  statusCode: 200,
  headers: { 'content-type': 'text/html; charset=utf-8' },
  body: '<!doctype html><meta charset="utf-8"><title>image-pipeline</title><h1>image-pipeline</h1><ul><li><a href="/dashboard/">Dashboard</a></li><li><a href="/api/health/">/api/health/</a></li><li><a href="/api/workers/status/">/api/workers/status/</a></li><li><a href="/api/metrics">/api/metrics</a></li></ul>',
}), { public: true });
