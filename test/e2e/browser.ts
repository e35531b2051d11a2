import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect, inject } from 'vitest';
import { client } from '../helpers/client.ts';
import { createTenant, startTestGateway, type TestGateway, type TestTenant } from '../helpers/gateway.ts';

export const root = path.resolve(import.meta.dirname, '../..');
export const shots = path.join(root, 'docs/screenshots');

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Debian's Chromium, headless, with the flags that make it quiet and offline-safe here. */
export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: inject('chromiumPath')!, headless: true, args: ARGS });
}

/**
 * A browser with a profile on disk: Chromium reports every context of `launch()` as incognito, where no app
 * can be installed, so the installability check needs a real profile. Closing it removes the profile.
 */
export async function launchPersistent(opts: Parameters<typeof chromium.launchPersistentContext>[1] = {}): Promise<BrowserContext> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-e2e-profile-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: inject('chromiumPath')!,
    headless: true,
    args: ARGS,
    ...opts,
  });
  context.on('close', () => {
    try {
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
    } catch {
      /* Chromium may still be writing its profile as it exits; the folder is in tmp */
    }
  });
  return context;
}

export const hasBrowser = (): boolean => inject('chromiumPath') !== null;

export interface World {
  gw: TestGateway;
  tenant: TestTenant;
  owner: { email: string; password: string };
  browser: Browser;
  stop(): Promise<void>;
}

/** A real gateway (serving dist/web) with one tenant and its first owner, and a browser. */
export async function startWorld(name = 'Acme'): Promise<World> {
  const gw = await startTestGateway();
  const tenant = await createTenant(gw, name);
  const owner = { email: `owner@${name.toLowerCase()}.test`, password: 'correct horse battery staple' };
  const r = await gw.operator.post(`/v1/tenants/${tenant.id}/users`, owner);
  if (r.status !== 201 && r.status !== 200) throw new Error(`creating the first owner answered ${r.status}: ${JSON.stringify(r.body)}`);
  const browser = await launch();
  return {
    gw,
    tenant,
    owner,
    browser,
    async stop() {
      await browser.close().catch(() => undefined);
      await gw.stop();
    },
  };
}

export async function signIn(page: Page, base: string, who: { email: string; password: string }): Promise<void> {
  await page.goto(`${base}/app/`);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

const require = createRequire(import.meta.url);
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown; failureSummary?: string }>;
}

/** Runs axe-core in the page (or frame); returns the serious and critical violations. */
export async function axe(page: Page | import('playwright-core').Frame): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const r = await (globalThis as unknown as { axe: { run: (o: unknown) => Promise<{ violations: AxeViolation[] }> } }).axe.run({
      resultTypes: ['violations'],
    });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  });
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export async function expectAccessible(page: Page | import('playwright-core').Frame, screen: string): Promise<void> {
  const bad = await axe(page);
  expect(bad, `${screen}: ${JSON.stringify(bad, null, 2)}`).toEqual([]);
}

export async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, name), fullPage });
}

/** Polls `fn` until it returns a truthy value (no fixed sleeps: the machine is shared and slow). */
export async function until<T>(fn: () => Promise<T> | T, what: string, timeoutMs = 30_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A plain HTTP server on another port (so another origin) serving one host page. */
export async function hostPage(
  html: (origin: string) => string,
  files: Record<string, { type: string; body: string }> = {},
): Promise<{ url: string; origin: string; close(): Promise<void> }> {
  let origin = '';
  const server = http.createServer((req, res) => {
    const f = files[new URL(req.url ?? '/', 'http://x').pathname];
    res.writeHead(200, {
      'content-type': f ? f.type : 'text/html; charset=utf-8',
      'access-control-allow-origin': '*',
      'cross-origin-resource-policy': 'cross-origin',
    });
    res.end(f ? f.body : html(origin));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // localhost, not 127.0.0.1: a different site from the gateway, as a customer's website would be.
  origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  return {
    url: `${origin}/`,
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A browser context that records every /v1 request a page makes (URL and Authorization). */
export async function recordingContext(browser: Browser, opts: Parameters<Browser['newContext']>[0] = {}) {
  const context: BrowserContext = await browser.newContext(opts);
  const requests: Array<{ url: string; method: string; status?: number; body?: string }> = [];
  context.on('response', async (res) => {
    const url = res.url();
    if (!new URL(url).pathname.startsWith('/v1/')) return;
    let body: string | undefined;
    try {
      body = await res.text();
    } catch {
      /* redirects and aborted requests have no body */
    }
    requests.push({ url, method: res.request().method(), status: res.status(), ...(body !== undefined ? { body } : {}) });
  });
  return { context, requests };
}

export { client };
