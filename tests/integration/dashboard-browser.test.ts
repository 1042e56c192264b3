/// <reference lib="dom" />
// The dashboard in headless Chromium (Debian's, driven by playwright-core) on a running
// stack: workers alive, a job submitted from the form reaching completed with its
// thumbnail, a stopped worker going offline, a job failure shown with its reason.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ARTIFACTS, startStack, type RunningStack } from '../helpers/stack';
import { startWorker, type WorkerProcess } from '../helpers/workers';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(ARTIFACTS, 'screenshots');
let stack: RunningStack;
let browser: Browser;
let page: Page;
const workers: Record<string, WorkerProcess> = {};

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  mkdirSync(SHOTS, { recursive: true });
  // A killed worker's open long poll can still be handed a message; it reappears after this timeout.
  stack = await startStack({ HEARTBEAT_INTERVAL_S: '1', POLL_WAIT_S: '1', VISIBILITY_TIMEOUT_S: '5' }, 'dashboard-browser');
  for (const w of await Promise.all(['worker-1', 'worker-2', 'worker-3'].map((id) => startWorker(stack, id)))) workers[w.id] = w;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all(Object.values(workers).map((w) => w.stop('SIGKILL')));
  await stack?.stop();
});

const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
const card = (id: string) => page.locator(`[data-worker="${id}"]`);

async function submitFromForm(filters: string[], image = 'sample_4k.jpg'): Promise<string[]> {
  for (const box of await page.locator('input[name=image]').all()) await box.setChecked((await box.getAttribute('value')) === image);
  for (const box of await page.locator('input[name=filter]').all()) await box.setChecked(filters.includes((await box.getAttribute('value'))!));
  // Forget the previous submission's answer so we wait for this one's.
  await page.evaluate(() => {
    delete document.querySelector<HTMLElement>('#submit-result')!.dataset.taskIds;
    document.querySelector('#submit-error')!.textContent = '';
  });
  await page.getByRole('button', { name: 'Submit job' }).click();
  await page.waitForFunction(() => !!document.querySelector<HTMLElement>('#submit-result')?.dataset.taskIds || !!document.querySelector('#submit-error')?.textContent);
  const ids = await page.locator('#submit-result').getAttribute('data-task-ids');
  return ids ? ids.split(',') : [];
}

test('the page loads its own bundled assets and shows the three workers alive', async () => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const external: string[] = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(stack.url) && !r.url().startsWith('data:')) external.push(r.url());
  });
  await page.goto(`${stack.url}/dashboard/`);
  for (const id of ['worker-1', 'worker-2', 'worker-3']) await card(id).locator('[data-status=idle]').waitFor({ timeout: 15_000 });
  await expect(card('worker-3').textContent()).resolves.toContain('all');
  await expect(page.locator('#live').textContent()).resolves.toMatch(/3\/3 workers alive/);
  await page.locator('#queue-chart canvas').waitFor();
  // The queue chart's x-axis spans its 5-minute window from the first sample, not the few
  // hundred milliseconds between the samples it has so far.
  await page.locator('#queue-chart[data-window-s]').waitFor({ timeout: 10_000 });
  expect(Number(await page.locator('#queue-chart').getAttribute('data-window-s'))).toBe(300);
  expect(errors).toEqual([]);
  expect(external).toEqual([]);
  await shot('01-workers-alive');
}, 60_000);

test('a killed worker turns offline on the page within the heartbeat timeout', async () => {
  await workers['worker-2'].stop('SIGKILL');
  // Killed: no goodbye, so it is the heartbeat timeout (3 x 1 s) that shows it.
  await card('worker-2').locator('[data-status=offline]').waitFor({ timeout: 10_000 });
  expect(await card('worker-2').getAttribute('data-alive')).toBe('false');
  await shot('02-worker-offline');
}, 30_000);

test('a job submitted from the form reaches completed and its thumbnail loads', async () => {
  // FIFO dispatch: with worker-2 gone, a resize can only land on worker-1 or worker-3, both able.
  const [id] = await submitFromForm(['resize']);
  expect(id).toMatch(/^[0-9a-f-]{36}$/);
  const row = page.locator(`#tasks tr[data-task-id="${id}"]`);
  await row.and(page.locator('[data-status=completed]')).waitFor({ timeout: 30_000 });
  await row.click();
  const thumb = page.locator('#detail-thumb');
  await thumb.waitFor({ state: 'visible' });
  await page.waitForFunction(() => {
    const img = document.querySelector<HTMLImageElement>('#detail-thumb');
    return !!img && img.complete && img.naturalWidth > 0;
  });
  expect(await thumb.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight])).toEqual([800, 600]);
  await expect(page.locator('#detail-json').textContent()).resolves.toContain('"status": "completed"');
  await shot('03-task-completed');
}, 60_000);

test('an invalid parameter shows the API validation message inline', async () => {
  for (const box of await page.locator('input[name=filter]').all()) await box.setChecked((await box.getAttribute('value')) === 'blur');
  await page.fill('#p-blur-radius', '500');
  await page.getByRole('button', { name: 'Submit job' }).click();
  await page.waitForFunction(() => /radius must be a number from 0\.3 to 100/.test(document.querySelector('#submit-error')?.textContent ?? ''));
  expect(await page.locator('#p-blur-radius').getAttribute('aria-invalid')).toBe('true');
  await page.fill('#p-blur-radius', '');
}, 30_000);

test('a stopped worker says stopped on the page', async () => {
  await workers['worker-3'].stop('SIGTERM');
  await card('worker-3').locator('[data-status=stopped]').waitFor({ timeout: 10_000 });
  expect(await card('worker-3').getAttribute('data-alive')).toBe('false');
}, 30_000);

test('with only worker-1 alive, a sharpen job fails and the page says why', async () => {
  const [id] = await submitFromForm(['sharpen']);
  const row = page.locator(`#tasks tr[data-task-id="${id}"]`);
  await row.and(page.locator('[data-status=failed]')).waitFor({ timeout: 30_000 });
  const text = await row.textContent();
  expect(text).toContain("Worker worker-1 cannot handle filters: ['sharpen']");
  expect(text).toContain('job_failure');
  await page.locator('[data-reason="job_failure/worker_capability_mismatch"]').waitFor({ timeout: 10_000 });
  await shot('04-job-failure');
}, 60_000);

test('compare-all from the page draws the three strategies with their speed-ups', async () => {
  for (const box of await page.locator('input[name=image]').all()) await box.setChecked((await box.getAttribute('value')) === 'sample_4k.jpg');
  for (const box of await page.locator('input[name=filter]').all()) await box.setChecked((await box.getAttribute('value')) === 'resize');
  await page.getByRole('button', { name: 'Run compare-all' }).click();
  await page.locator('#compare-bars [data-strategy=multiprocessing]').waitFor({ timeout: 60_000 });
  const bars = await page.locator('#compare-bars [data-strategy]').evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-strategy'), r.textContent]));
  expect(bars.map(([name]) => name)).toEqual(['sequential', 'threading', 'multiprocessing']);
  for (const [, text] of bars) expect(text).toMatch(/\d+ ms · [\d.]+x/);
  await expect(page.locator('#compare-verdict').textContent()).resolves.toMatch(/won this io-bound run/);
  await shot('05-compare');
}, 90_000);

test('usable at phone width: no horizontal scrolling', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(500);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(1);
  await shot('06-phone');
}, 30_000);
