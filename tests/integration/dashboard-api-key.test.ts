/// <reference lib="dom" />
// The dashboard against a stack started with API_KEYS, in headless Chromium: the page asks for
// the key when the API answers 401 (once, again only if the key is refused), keeps it in
// sessionStorage, and then works: live data, a job submitted from the form, and the Jobs panel,
// which polls the job with the key instead of opening an event stream (an EventSource cannot
// send an Authorization header) and cancels it with the key.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Dialog, type Page } from 'playwright-core';
import { startStack, type RunningStack } from '../helpers/stack';

const CHROMIUM = '/usr/bin/chromium';
const KEY = 'dashboard-key-7f3a';
let stack: RunningStack;
let browser: Browser;
let page: Page;
const prompts: string[] = [];
let answers: (string | null)[] = [];
/** Every request the page made to a job's event stream (there must be none with a key). */
const streamRequests: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  stack = await startStack({ API_KEYS: KEY }, 'dashboard-api-key');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('request', (r) => {
    if (/\/api\/jobs\/[^/]+\/events\//.test(r.url())) streamRequests.push(r.url());
  });
  page.on('dialog', (d: Dialog) => {
    prompts.push(`${d.type()}: ${d.message()}`);
    const answer = answers.shift();
    void (answer === null || answer === undefined ? d.dismiss() : d.accept(answer));
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

const live = () => page.waitForFunction(() => /workers alive/.test(document.querySelector('#live')?.textContent ?? ''), undefined, { timeout: 15_000 });

test('a refused key is asked for again; the right one is kept and used for every request', async () => {
  answers = ['not-the-key', KEY];
  const unauthorized: string[] = [];
  page.on('response', (r) => {
    if (r.status() === 401) unauthorized.push(r.url());
  });
  await page.goto(`${stack.url}/dashboard/`);
  await live();
  expect(prompts).toHaveLength(2);
  expect(prompts[0]).toMatch(/^prompt: This API needs an API key/);
  expect(prompts[1]).toMatch(/^prompt: That API key was refused/);
  expect(await page.evaluate(() => sessionStorage.getItem('image-pipeline.api-key'))).toBe(KEY);

  // Polling goes on with the key: no new 401s, no new prompts.
  const before = unauthorized.length;
  await page.waitForResponse((r) => r.url().endsWith('/api/dashboard/') && r.status() === 200);
  await page.waitForResponse((r) => r.url().endsWith('/api/dashboard/') && r.status() === 200);
  expect(unauthorized.length).toBe(before);
  expect(prompts).toHaveLength(2);
}, 60_000);

test('a job submitted from the form is accepted with the stored key', async () => {
  await page.locator('input[name=filter]').first().waitFor();
  for (const box of await page.locator('input[name=filter]').all()) await box.setChecked((await box.getAttribute('value')) === 'blur');
  const submitted = page.waitForResponse((r) => r.url().endsWith('/api/process-batch/distributed/'));
  await page.getByRole('button', { name: 'Submit job' }).click();
  const res = await submitted;
  expect(res.status()).toBe(202);
  expect(res.request().headers().authorization).toBe(`Bearer ${KEY}`);
  await page.waitForFunction(() => !!document.querySelector<HTMLElement>('#submit-result')?.dataset.taskIds);
});

test('the Jobs panel polls the job with the key instead of streaming it, and cancels it with the key', async () => {
  const jobId = (await page.locator('#submit-result').getAttribute('data-job-id'))!;
  expect(jobId).toMatch(/^[0-9a-f-]{36}$/);
  const polls: (string | undefined)[] = [];
  const unauthorized: string[] = [];
  page.on('response', (r) => {
    if (r.status() === 401) unauthorized.push(r.url());
  });
  page.on('request', (r) => {
    if (r.url().endsWith(`/api/jobs/${jobId}/`)) polls.push(r.headers().authorization);
  });
  // No worker on this stack: the job stays pending, unfinished.
  const row = page.locator(`#jobs [data-job-id="${jobId}"]`);
  await row.and(page.locator('[data-live=poll][data-status=pending]')).waitFor({ timeout: 10_000 });
  await expect(row.locator('[data-note]').textContent()).resolves.toMatch(/cannot carry the API key/);
  await page.waitForResponse((r) => r.url().endsWith(`/api/jobs/${jobId}/`) && r.status() === 200);
  await page.waitForResponse((r) => r.url().endsWith(`/api/jobs/${jobId}/`) && r.status() === 200);
  expect(polls.length).toBeGreaterThanOrEqual(2);
  for (const auth of polls) expect(auth).toBe(`Bearer ${KEY}`);

  const cancel = page.waitForResponse((r) => r.url().endsWith(`/api/jobs/${jobId}/cancel/`));
  await page.getByRole('button', { name: `Cancel job ${jobId.slice(0, 8)}` }).click();
  const res = await cancel;
  expect(res.status()).toBe(200);
  expect(res.request().headers().authorization).toBe(`Bearer ${KEY}`);
  await row.and(page.locator('[data-status=cancelled][data-live=none]')).waitFor({ timeout: 10_000 });
  const bar = row.getByRole('progressbar');
  expect(await bar.getAttribute('aria-valuenow')).toBe(await bar.getAttribute('aria-valuemax'));
  expect(streamRequests).toEqual([]);
  expect(unauthorized).toEqual([]);
});

test('a reload in the same tab does not ask again', async () => {
  await page.reload();
  await live();
  expect(prompts).toHaveLength(2);
});

test('declining the prompt says the key is needed and stops asking', async () => {
  const fresh = await browser.newPage();
  const seen: string[] = [];
  fresh.on('dialog', (d) => {
    seen.push(d.message());
    void d.dismiss();
  });
  await fresh.goto(`${stack.url}/dashboard/`);
  await fresh.waitForFunction(() => /needs a key/.test(document.querySelector('#live')?.textContent ?? ''), undefined, { timeout: 15_000 });
  // Two more poll ticks (2 s each) must not bring the prompt back.
  await fresh.waitForTimeout(4500);
  expect(seen).toHaveLength(1);
  await expect(fresh.locator('#live').textContent()).resolves.toMatch(/needs a key/);
  await fresh.close();
}, 30_000);
