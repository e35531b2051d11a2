import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { hasBrowser, launchPersistent, shot, signIn, startWorld, until, type World } from './browser.ts';

declare const document: any;
declare const window: any;
declare const navigator: any;

const phone = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

async function noHorizontalOverflow(page: Page, screen: string): Promise<void> {
  const m = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth as number, width: window.innerWidth as number }));
  expect(m.scroll, `${screen}: page is ${m.scroll}px wide in a ${m.width}px viewport`).toBeLessThanOrEqual(m.width);
}

/** Chromium's own installability check (manifest, icons, service worker, secure origin): no errors. */
async function installabilityErrors(page: Page): Promise<unknown[]> {
  await until(() => page.evaluate(async () => Boolean(await navigator.serviceWorker.getRegistration())), 'the service worker to register');
  await page.evaluate(() => navigator.serviceWorker.ready);
  const cdp = await page.context().newCDPSession(page);
  const r = (await cdp.send('Page.getInstallabilityErrors')) as { installabilityErrors: unknown[] };
  const manifest = (await cdp.send('Page.getAppManifest')) as { url: string; errors: unknown[] };
  expect(manifest.url).not.toBe('');
  expect(manifest.errors).toEqual([]);
  await cdp.detach();
  return r.installabilityErrors;
}

describe.skipIf(!hasBrowser())('phone (390 × 844)', () => {
  let w: World;
  let consumer = '';
  let message = '';
  beforeAll(async () => {
    w = await startWorld('Hooli');
    const c = await w.tenant.api.post('/v1/consumers', { name: 'Pied Piper', uid: 'pied-piper' });
    consumer = c.body.id;
    await w.tenant.api.post(`/v1/consumers/${consumer}/endpoints`, {
      url: 'https://hooks.piedpiper.example/very/long/path/that/should/wrap/on/a/phone/screen',
      description: 'Compression events',
    });
    const m = await w.tenant.api.post(`/v1/consumers/${consumer}/messages`, {
      eventType: 'file.compressed',
      payload: { ratio: 5.2, name: 'a-rather-long-file-name-that-must-not-widen-the-page.tar.gz' },
    });
    message = m.body.id;
  });
  afterAll(async () => {
    await w?.stop();
  });

  it('dashboard: no horizontal overflow on any screen, touch-sized controls, installable', async () => {
    const context = await launchPersistent(phone);
    const page = context.pages()[0] ?? (await context.newPage());
    await signIn(page, w.gw.url, w.owner);
    await until(async () => (await page.locator('.state.loading').count()) === 0, 'the overview');
    await noHorizontalOverflow(page, 'overview');
    await shot(page, 'phone-dashboard.png');
    for (const path of [
      '/consumers',
      `/consumers/${consumer}`,
      `/consumers/${consumer}/messages/${message}`,
      '/messages',
      '/event-types',
      '/api-keys',
      '/users',
      '/audit-log',
      '/settings',
    ]) {
      await page.goto(`${w.gw.url}/app${path}`);
      await page.getByRole('navigation', { name: 'Main' }).waitFor();
      await until(async () => (await page.locator('.state.loading').count()) === 0, path);
      await noHorizontalOverflow(page, path);
    }
    // Buttons are at least 44 px tall (touch).
    const small = await page.evaluate(() =>
      [...document.querySelectorAll('button, .btn, .nav a')]
        .map((e: any) => ({ text: e.textContent as string, h: e.getBoundingClientRect().height as number }))
        .filter((x: { h: number }) => x.h > 0 && x.h < 44),
    );
    expect(small).toEqual([]);
    await page.goto(`${w.gw.url}/app/`);
    expect(await installabilityErrors(page)).toEqual([]);

    // The service worker cached the shell, never an API answer; signing out empties every cache.
    await page.reload();
    await until(async () => (await page.locator('.state.loading').count()) === 0, 'the overview');
    const cached = await until(
      () =>
        page.evaluate(async () => {
          const urls: string[] = [];
          for (const k of await (globalThis as any).caches.keys())
            for (const r of await (await (globalThis as any).caches.open(k)).keys()) urls.push(new URL(r.url).pathname);
          return urls.length ? urls : null;
        }),
      'the shell to be cached',
    );
    expect(cached.some((u) => u.startsWith('/app/assets/'))).toBe(true);
    expect(cached.filter((u) => u.startsWith('/v1/'))).toEqual([]);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Tramline' }).waitFor();
    expect(await page.evaluate(async () => (await (globalThis as any).caches.keys()).length)).toBe(0);
    await context.close();
  });

  it("portal: no horizontal overflow, installable as the tenant's app", async () => {
    const session = await w.tenant.api.post(`/v1/consumers/${consumer}/portal-sessions`, {});
    const context = await launchPersistent(phone);
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(new URL(session.body.url, w.gw.url).toString());
    await page.getByText('hooks.piedpiper.example', { exact: false }).first().waitFor();
    await noHorizontalOverflow(page, 'portal endpoints');
    await shot(page, 'phone-portal.png');
    await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Messages' }).click();
    await page.getByRole('link', { name: message }).waitFor();
    await noHorizontalOverflow(page, 'portal messages');
    expect(await installabilityErrors(page)).toEqual([]);
    await context.close();
  });
});
