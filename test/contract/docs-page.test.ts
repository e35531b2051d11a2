import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

/**
 * The reference at /docs renders the operations in a real browser with the network blocked: every
 * request that does not go to the gateway itself is aborted and counted (no CDN, no web fonts, no
 * telemetry), and the page runs under the gateway's Content-Security-Policy without a violation.
 */
let gw: TestGateway;
let browser: Browser;

beforeAll(async () => {
  gw = await startTestGateway();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});
afterAll(async () => {
  await browser?.close();
  await gw?.stop();
});

it('renders the Tramline API reference offline, under the CSP', { timeout: 120_000 }, async () => {
  const page = await browser.newPage();
  const outside: string[] = [];
  const problems: string[] = [];
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(gw.url) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
    outside.push(url);
    return route.abort('internetdisconnected');
  });
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content[- ]Security[- ]Policy/i.test(m.text())) problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  let lastText: string | undefined;
  const res = await page.goto(`${gw.url}/docs`);
  expect(res?.status()).toBe(200);
  expect(await page.title()).toBe('Tramline API');
  // The document's title and operations, as Scalar renders them.
  await page.getByRole('heading', { name: 'Tramline API' }).first().waitFor({ timeout: 60_000 });
  const text = async (): Promise<string> => page.innerText('body');
  const deadline = Date.now() + 30_000;
  // The first tag is open; every tag is listed in the sidebar; opening one renders its operations.
  const wanted = ['Create a tenant', 'List tenants', 'event-types', 'consumers', 'endpoints', 'messages', 'portal', 'audit-log', 'health'];
  while (!wanted.every((w) => (lastText ?? '').includes(w)) && Date.now() < deadline) {
    lastText = await text();
    await new Promise((r) => setTimeout(r, 250));
  }
  for (const w of wanted) expect(lastText).toContain(w);
  await page.getByText('messages', { exact: true }).first().click();
  await page.getByText('Publish a message', { exact: true }).first().waitFor({ timeout: 30_000 });
  expect(outside).toEqual([]);
  expect(problems.filter((p) => /Content[- ]Security[- ]Policy|Refused to/i.test(p))).toEqual([]);
  await page.close();
});
