/**
 * GET /api/docs/: the API reference page, Swagger UI over GET /api/openapi.json. Its files
 * come from the swagger-ui-dist package in node_modules (shipped in the aws artifact too,
 * serverless.yml custom.esbuild.external), never from a CDN; the page and its start-up script
 * are written here. Only the fixed names below are served.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { DependencyUnavailableError, NotFoundError } from '../core/errors';
import { explain } from '../core/validate';

export const REFERENCE_PATH = '/api/docs/';
export const DOCUMENT_PATH = '/api/openapi.json';

interface Asset {
  contentType: string;
  /** A file of swagger-ui-dist, or text written here. */
  file?: string;
  text?: string;
  binary?: boolean;
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>image-pipeline API reference</title>
  <link rel="stylesheet" href="${REFERENCE_PATH}swagger-ui.css">
  <link rel="icon" type="image/png" href="${REFERENCE_PATH}favicon-32x32.png" sizes="32x32">
  <link rel="icon" type="image/png" href="${REFERENCE_PATH}favicon-16x16.png" sizes="16x16">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="${REFERENCE_PATH}swagger-ui-bundle.js" charset="utf-8"></script>
  <script src="${REFERENCE_PATH}init.js" charset="utf-8"></script>
</body>
</html>
`;

// Absolute paths, as the dashboard uses: the page is also served without its trailing slash.
const INIT = `window.onload = function () {
  window.ui = SwaggerUIBundle({ url: ${JSON.stringify(DOCUMENT_PATH)}, dom_id: '#swagger-ui', deepLinking: true, persistAuthorization: true });
};
`;

const ASSETS: Record<string, Asset> = {
  'index.html': { contentType: 'text/html; charset=utf-8', text: PAGE },
  'init.js': { contentType: 'text/javascript; charset=utf-8', text: INIT },
  'swagger-ui.css': { contentType: 'text/css; charset=utf-8', file: 'swagger-ui.css' },
  'swagger-ui-bundle.js': { contentType: 'text/javascript; charset=utf-8', file: 'swagger-ui-bundle.js' },
  'favicon-32x32.png': { contentType: 'image/png', file: 'favicon-32x32.png', binary: true },
  'favicon-16x16.png': { contentType: 'image/png', file: 'favicon-16x16.png', binary: true },
};

export const REFERENCE_ASSETS = Object.keys(ASSETS) as [string, ...string[]];

/** The {asset} of GET /api/docs/{asset}: an unknown name is a 404, as for the dashboard. */
export const ReferenceAssetPath = z.object({
  asset: explain(z.enum(REFERENCE_ASSETS).meta({ description: 'a file of the reference page' }), ({ raw }) => ({
    message: `no API reference asset ${JSON.stringify(String(raw ?? '').slice(0, 60))}; the page is ${REFERENCE_PATH}`,
    field: 'asset',
    error: NotFoundError,
  })),
});

/** Where swagger-ui-dist is installed: resolved, not assumed, so the bundle finds its own node_modules copy. */
export function swaggerUiDir(): string {
  return path.dirname(require.resolve('swagger-ui-dist/package.json'));
}

const cache = new Map<string, Promise<Buffer>>();

export interface ReferenceFile {
  contentType: string;
  body: Buffer;
  binary: boolean;
}

/** A file of the reference page ('' or index.html: the page). */
export async function referenceFile(name: string): Promise<ReferenceFile> {
  const asset = ASSETS[name === '' ? 'index.html' : name];
  if (!asset || !Object.hasOwn(ASSETS, name === '' ? 'index.html' : name)) throw new NotFoundError(`no API reference asset ${JSON.stringify(name.slice(0, 60))}`);
  let body: Promise<Buffer>;
  if (asset.text !== undefined) body = Promise.resolve(Buffer.from(asset.text, 'utf8'));
  else {
    const file = asset.file!;
    body =
      cache.get(file) ??
      Promise.resolve()
        .then(() => readFile(path.join(swaggerUiDir(), file)))
        .catch((e: unknown) => {
          cache.delete(file);
          throw new DependencyUnavailableError('swagger-ui-dist', `the reference page's files are missing (swagger-ui-dist is not installed); ${DOCUMENT_PATH} still answers`, e);
        });
    cache.set(file, body);
  }
  return { contentType: asset.contentType, body: await body, binary: asset.binary ?? false };
}
