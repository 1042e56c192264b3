/// <reference lib="dom" />
// The dashboard's Jobs panel in headless Chromium (Debian's, driven by playwright-core) on a
// stack with one worker: a 20-image job's progress bar advancing from the job's event stream,
// cancelled from the page and ending cancelled with counts that add up; a completed job at
// full progress; and streams closed once their job leaves the list, never more than three open.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page, type Request } from 'playwright-core';
import { postJson } from '../helpers/batch';
import { getJson } from '../helpers/shared-stack';
import { ARTIFACTS, startStack, type RunningStack } from '../helpers/stack';
import { startWorker, type WorkerProcess } from '../helpers/workers';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(ARTIFACTS, 'screenshots');
let stack: RunningStack;
let browser: Browser;
let page: Page;
let worker: WorkerProcess;
/** Every request the page made to a job's event stream. */
const streamRequests: { jobId: string; at: number; accept: string }[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  mkdirSync(SHOTS, { recursive: true });
  stack = await startStack({ HEARTBEAT_INTERVAL_S: '1', POLL_WAIT_S: '1' }, 'dashboard-jobs');
  worker = await startWorker(stack, 'worker-3');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('request', (r: Request) => {
    const m = /\/api\/jobs\/([0-9a-f-]{36})\/events\/$/.exec(r.url());
    if (m) streamRequests.push({ jobId: m[1], at: Date.now(), accept: r.headers().accept ?? '' });
  });
  await page.goto(`${stack.url}/dashboard/`);
  await page.locator('[data-worker="worker-3"] [data-status=idle]').waitFor({ timeout: 15_000 });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await worker?.stop('SIGKILL');
  await stack?.stop();
});

const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
const row = (jobId: string) => page.locator(`#jobs [data-job-id="${jobId}"]`);

async function submitJob(filters: string[], images: number): Promise<string> {
  const res = await postJson(`${stack.url}/api/process-batch/distributed/`, { filters, images: Array.from({ length: images }, () => 'sample_4k.jpg') });
  expect(res.status).toBe(202);
  return res.body.job_id;
}

/** The counts the row shows, read from its data-count cells. */
async function pageCounts(jobId: string): Promise<Record<string, number>> {
  const cells = await row(jobId).locator('[data-count]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-count'), e.textContent]));
  return Object.fromEntries(cells.map(([k, v]) => [k, Number(v)]));
}

async function progress(jobId: string): Promise<{ now: number; max: number; min: number; text: string }> {
  const bar = row(jobId).getByRole('progressbar');
  return {
    now: Number(await bar.getAttribute('aria-valuenow')),
    max: Number(await bar.getAttribute('aria-valuemax')),
    min: Number(await bar.getAttribute('aria-valuemin')),
    text: (await bar.getAttribute('aria-valuetext')) ?? '',
  };
}

// A route blocked by one test must not outlive it (a failed assertion would skip its unroute).
afterEach(async () => {
  await page.unrouteAll({ behavior: 'ignoreErrors' });
});

test('a 20-image job advances live from its event stream, is cancelled from the page and ends cancelled', async () => {
  // Slow enough per task (eight sharpen passes, then edges) that the job is still running after
  // the list refresh has shown it and the stream has moved its bar twice, on a fast host too.
  const jobId = await submitJob([...Array(8).fill('sharpen'), 'edges'], 20);
  // Listed at the next refresh, and given its own event stream.
  await row(jobId).and(page.locator('[data-live=stream]')).waitFor({ timeout: 10_000 });
  expect(await progress(jobId)).toMatchObject({ min: 0, max: 20 });

  // From here the list refresh is blocked, so only the job's own stream can move the bar.
  const isList = (u: URL) => u.pathname === '/api/jobs/';
  await page.route(isList, (r) => r.abort());
  // Every value the bar takes, as the page sets it.
  await page.evaluate((id) => {
    const bar = document.querySelector(`[data-job-id="${id}"] [role=progressbar]`)!;
    const w = window as unknown as { progress: number[] };
    w.progress = [Number(bar.getAttribute('aria-valuenow'))];
    new MutationObserver(() => {
      const v = Number(bar.getAttribute('aria-valuenow'));
      if (v !== w.progress.at(-1)) w.progress.push(v);
    }).observe(bar, { attributes: true, attributeFilter: ['aria-valuenow'] });
  }, jobId);
  await page.waitForFunction(() => {
    const p = (window as unknown as { progress: number[] }).progress;
    return p.length >= 2 && p.at(-1)! >= 2;
  }, undefined, { timeout: 90_000 });
  const before = await progress(jobId);
  expect(before.now).toBeGreaterThanOrEqual(2);
  expect(before.now).toBeLessThan(20);
  expect(before.text).toBe(`${before.now} of 20 tasks finished`);
  expect(await row(jobId).getAttribute('data-status')).toBe('running');
  expect(await row(jobId).getAttribute('data-live')).toBe('stream');
  await page.unroute(isList);
  // The progress came from the stream: EventSource requests (Accept: text/event-stream) for this job.
  const mine = streamRequests.filter((r) => r.jobId === jobId);
  expect(mine.length).toBeGreaterThanOrEqual(1);
  for (const r of mine) expect(r.accept).toContain('text/event-stream');
  await shot('jobs-01-running');

  const cancelled = page.waitForResponse((r) => r.url().endsWith(`/api/jobs/${jobId}/cancel/`) && r.request().method() === 'POST');
  await page.getByRole('button', { name: `Cancel job ${jobId.slice(0, 8)}` }).click();
  expect((await cancelled).status()).toBe(200);
  await row(jobId).and(page.locator('[data-status=cancelled]')).waitFor({ timeout: 30_000 });

  const c = await pageCounts(jobId);
  expect(c.total).toBe(20);
  expect(c.pending + c.processing).toBe(0);
  expect(c.completed + c.failed + c.cancelled + c.timed_out).toBe(20);
  expect(c.cancelled).toBeGreaterThanOrEqual(1);
  expect(c.completed).toBeGreaterThanOrEqual(before.now);
  expect(await progress(jobId)).toMatchObject({ now: 20, max: 20 });
  await expect(row(jobId).locator('[data-job-status]').textContent()).resolves.toBe('cancelled');
  expect(await row(jobId).getByRole('button', { name: /Cancel/ }).count()).toBe(0); // hidden: out of the accessibility tree
  // The page agrees with the API.
  const api = (await getJson(`${stack.url}/api/jobs/${jobId}/`)).body;
  expect(api.status).toBe('cancelled');
  const { total, pending, processing, completed, failed, cancelled: nCancelled, timed_out } = c;
  expect(api.counts).toEqual({ total, pending, processing, completed, failed, cancelled: nCancelled, timed_out });
  // The bar never stepped back.
  const seen = await page.evaluate(() => (window as unknown as { progress: number[] }).progress);
  expect(seen).toEqual([...seen].sort((a, b) => a - b));
  expect(seen.at(-1)).toBe(20);

  // Its stream is closed: no request for it after a while.
  expect(await row(jobId).getAttribute('data-live')).toBe('none');
  const requestsThen = streamRequests.filter((r) => r.jobId === jobId).length;
  await page.waitForTimeout(3000);
  expect(streamRequests.filter((r) => r.jobId === jobId).length).toBe(requestsThen);
  await shot('jobs-02-cancelled');
}, 180_000);

test('a completed job shows full progress, all of it completed', async () => {
  const jobId = await submitJob(['sharpen', 'edges'], 4);
  await row(jobId).and(page.locator('[data-status=completed]')).waitFor({ timeout: 60_000 });
  expect(await progress(jobId)).toMatchObject({ now: 4, max: 4, text: '4 of 4 tasks finished' });
  const c = await pageCounts(jobId);
  expect(c).toEqual({ total: 4, pending: 0, processing: 0, completed: 4, failed: 0, cancelled: 0, timed_out: 0 });
  expect(await row(jobId).locator('[data-part=completed]').evaluate((e: HTMLElement) => e.style.width)).toBe('100%');
  for (const part of ['failed', 'cancelled', 'timed_out', 'processing']) expect(await row(jobId).locator(`[data-part=${part}]`).evaluate((e: HTMLElement) => e.style.width)).toBe('0%');
  expect(await row(jobId).getByRole('button', { name: /Cancel/ }).count()).toBe(0);
  expect(await row(jobId).getAttribute('data-live')).toBe('none');
  // Newest first: it is the list's first row.
  expect(await page.locator('#jobs > li').first().getAttribute('data-job-id')).toBe(jobId);
}, 90_000);

test('at most three streams are open; a job pushed out of the list has its stream closed', async () => {
  // With no worker the jobs stay pending: unfinished, so each wants a stream.
  await worker.stop('SIGTERM');
  const first = await submitJob(['resize'], 1);
  await row(first).and(page.locator('[data-live=stream]')).waitFor({ timeout: 10_000 });
  await row(first).and(page.locator('[data-status=pending]')).waitFor();
  await expect(page.getByRole('button', { name: `Cancel job ${first.slice(0, 8)}` }).isVisible()).resolves.toBe(true);

  const newer: string[] = [];
  for (let i = 0; i < 10; i++) newer.push(await submitJob(['resize'], 1));
  await row(newer[9]).waitFor({ timeout: 10_000 });
  await row(first).waitFor({ state: 'detached', timeout: 10_000 });
  const ids = await page.locator('#jobs > li').evaluateAll((els) => els.map((e) => e.getAttribute('data-job-id')));
  expect(ids).toEqual([...newer].reverse());
  const modes = await page.locator('#jobs > li').evaluateAll((els) => els.map((e) => e.getAttribute('data-live')));
  expect(modes.filter((m) => m === 'stream').length).toBe(3);
  expect(modes.filter((m) => m === 'list').length).toBe(7);

  const requestsThen = streamRequests.filter((r) => r.jobId === first).length;
  expect(requestsThen).toBeGreaterThanOrEqual(1);
  await page.waitForTimeout(3000);
  expect(streamRequests.filter((r) => r.jobId === first).length).toBe(requestsThen);
  // Rows without a stream keep up with the list: one cancelled by API turns cancelled on the page.
  const listed = ids[modes.indexOf('list')]!;
  expect((await postJson(`${stack.url}/api/jobs/${listed}/cancel/`, {})).status).toBe(200);
  await row(listed).and(page.locator('[data-status=cancelled]')).waitFor({ timeout: 10_000 });
  expect(await progress(listed)).toMatchObject({ now: 1, max: 1 });
  await shot('jobs-03-list');
}, 90_000);
