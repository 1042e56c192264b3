/// <reference lib="dom" />
// GET /api/openapi.json and the reference page GET /api/docs/ on the shared stack: the
// document served is the one the code generates for the stack's settings; the page and each
// of its files come from this API (swagger-ui-dist in node_modules), with their types, and in
// headless Chromium it renders one entry per operation without a request elsewhere.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { openApiDocument } from '../../lib/api/openapi';
import { loadConfig } from '../../lib/core/config';
import { getJson, sharedStack } from '../helpers/shared-stack';

const stack = sharedStack();
const { url } = stack;
const SWAGGER_UI = path.dirname(require.resolve('swagger-ui-dist/package.json'));
const CHROMIUM = '/usr/bin/chromium';

test('GET /api/openapi.json is the document the code generates for this stack', async () => {
  const res = await fetch(`${url}/api/openapi.json`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const served = await res.json();
  expect(served).toEqual(JSON.parse(JSON.stringify(openApiDocument(loadConfig(stack.env)))));
  expect(served.openapi).toMatch(/^3\.1\./);
  expect(Object.keys(served.paths)).toEqual(expect.arrayContaining(['/api/health/', '/api/process-batch/distributed/', '/api/docs/']));
});

test('GET /api/docs/ is a page that loads only its own files, each with its type', async () => {
  for (const variant of ['/api/docs/', '/api/docs']) {
    const res = await fetch(`${url}${variant}`);
    expect({ variant, status: res.status, type: res.headers.get('content-type') }).toEqual({ variant, status: 200, type: 'text/html; charset=utf-8' });
  }
  const html = await (await fetch(`${url}/api/docs/`)).text();
  const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
  expect(refs.length).toBeGreaterThanOrEqual(4);
  // Absolute paths on this API (so the page works without its trailing slash too); no CDN.
  for (const ref of refs) expect(ref).toMatch(/^\/api\/docs\/[\w.-]+$/);

  const expected: Record<string, { type: RegExp; file?: string }> = {
    'swagger-ui.css': { type: /^text\/css/, file: 'swagger-ui.css' },
    'swagger-ui-bundle.js': { type: /^text\/javascript/, file: 'swagger-ui-bundle.js' },
    'favicon-32x32.png': { type: /^image\/png$/, file: 'favicon-32x32.png' },
    'init.js': { type: /^text\/javascript/ },
  };
  for (const ref of refs) {
    const name = ref.slice('/api/docs/'.length);
    const res = await fetch(`${url}${ref}`);
    const body = Buffer.from(await res.arrayBuffer());
    expect({ ref, status: res.status }).toEqual({ ref, status: 200 });
    if (expected[name]) {
      expect(res.headers.get('content-type')).toMatch(expected[name].type);
      // The package's own bytes, served unchanged (the PNG through base64 and back).
      if (expected[name].file) expect(body.equals(readFileSync(path.join(SWAGGER_UI, expected[name].file!)))).toBe(true);
    }
  }
  expect(refs.map((r) => r.slice('/api/docs/'.length))).toEqual(expect.arrayContaining(Object.keys(expected)));
  const init = await (await fetch(`${url}/api/docs/init.js`)).text();
  expect(init).toContain('"/api/openapi.json"');
});

test('an unknown file of the page is a JSON 404 naming it', async () => {
  const { status, body } = await getJson(`${url}/api/docs/../../package.json`);
  expect(status).toBe(404);
  const named = await getJson(`${url}/api/docs/swagger-ui.js.map`);
  expect(named.status).toBe(404);
  expect(named.body.error).toMatchObject({ code: 'not_found', field: 'asset' });
  expect(named.body.error.message).toContain('swagger-ui.js.map');
  expect(body.error.code).toBe('not_found');
});

test('in a browser the page renders every operation of the document, requesting nothing elsewhere', async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    const elsewhere: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => {
      if (!r.url().startsWith(url) && !r.url().startsWith('data:')) elsewhere.push(r.url());
    });
    await page.goto(`${url}/api/docs/`);
    const doc = JSON.parse(JSON.stringify(openApiDocument(loadConfig(stack.env))));
    const operations = Object.values<Record<string, unknown>>(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    await page.waitForFunction((n) => document.querySelectorAll('.opblock').length === n, operations, { timeout: 30_000 });
    expect(await page.locator('.opblock-summary-path', { hasText: '/api/process-batch/distributed/' }).count()).toBe(1);
    expect(await page.locator('.info .title').innerText()).toContain('image-pipeline');
    expect(errors).toEqual([]);
    expect(elsewhere).toEqual([]);
  } finally {
    await browser.close();
  }
}, 60_000);
