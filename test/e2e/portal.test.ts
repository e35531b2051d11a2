import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame, Page } from 'playwright-core';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { client, expectAccessible, hasBrowser, hostPage, recordingContext, shot, startWorld, until, type World } from './browser.ts';

// Browser globals inside page.evaluate callbacks (the root tsconfig has no DOM library).
declare const document: any;
declare function getComputedStyle(e: unknown): { getPropertyValue(name: string): string };
type HTMLImageElement = { complete: boolean; naturalWidth: number };
type HTMLIFrameElement = { style: { height: string } };

async function portalFrame(page: Page, gateway: string): Promise<Frame> {
  return until(() => page.frames().find((f) => f.url().startsWith(`${gateway}/portal/`)), 'the portal frame');
}

describe.skipIf(!hasBrowser())('portal', () => {
  let w: World;
  let receiver: Receiver;
  let host: Awaited<ReturnType<typeof hostPage>>;
  let other: Awaited<ReturnType<typeof hostPage>>;
  let portalUrl = '';
  let portalToken = '';
  const mine = { consumer: '', endpointUrl: '', eventId: 'initech-order-1', messageId: '' };
  const theirs = { consumer: '', endpointUrl: '', eventId: 'umbrella-secret-order', messageId: '' };

  beforeAll(async () => {
    w = await startWorld('Initech');
    receiver = await startReceiver();
    const embed = (portal: () => string, gateway: () => string) => (origin: string) =>
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Initech — integrations</title>
<style>body{font-family:sans-serif;margin:0;background:#eef1f4}header{background:#222;color:#fff;padding:12px 20px}main{max-width:1000px;margin:20px auto;background:#fff;padding:16px;border-radius:8px}</style></head>
<body><header>initech.example — Settings › Webhooks (host page at ${origin})</header><main><h1>Webhooks</h1>
<script src="${gateway()}/embed.js" data-url="${portal()}"></script></main></body></html>`;
    host = await hostPage(
      embed(
        () => portalUrl,
        () => w.gw.url,
      ),
    );
    other = await hostPage(
      embed(
        () => portalUrl,
        () => w.gw.url,
      ),
    );

    const api = w.tenant.api;
    // The portal's CSP loads images from its own origin and https: only; here (no TLS) the logo is the one the
    // gateway generates for the tenant.
    const logo = `${w.gw.url}/portal/${w.tenant.id}/icon.svg`;
    const settings = await api.patch('/v1/settings', {
      branding: {
        name: 'Initech',
        logoUrl: logo,
        primaryColor: '#0a6b47',
        backgroundColor: '#f3f7f5',
        textColor: '#10231b',
        fontFamily: 'Georgia',
        mode: 'light',
        radius: 14,
      },
      embedOrigins: [new URL(host.url).origin],
    });
    expect(settings.status, JSON.stringify(settings.body)).toBe(200);

    for (const [who, name] of [
      [mine, 'Initech Ltd'],
      [theirs, 'Umbrella Corp'],
    ] as const) {
      const c = await api.post('/v1/consumers', { name });
      who.consumer = c.body.id;
      who.endpointUrl = `${receiver.url}/${name.split(' ')[0]!.toLowerCase()}`;
      expect(
        (await api.post(`/v1/consumers/${who.consumer}/endpoints`, { url: who.endpointUrl, description: `${name} endpoint` })).status,
      ).toBe(201);
      const m = await api.post(`/v1/consumers/${who.consumer}/messages`, {
        eventType: 'order.created',
        eventId: who.eventId,
        payload: { order: who.eventId },
      });
      expect(m.status).toBe(202);
      who.messageId = m.body.id;
    }
    await receiver.waitFor(2);
    const session = await api.post(`/v1/consumers/${mine.consumer}/portal-sessions`, {});
    expect(session.status).toBe(201);
    // Relative without TRAMLINE_PUBLIC_URL (never built from a Host header): the host page names the gateway.
    portalUrl = new URL(session.body.url, w.gw.url).toString();
    portalToken = session.body.token;
    expect(portalUrl).toContain(`/portal/${w.tenant.id}#token=tlp_`);
  });
  afterAll(async () => {
    await host?.close();
    await other?.close();
    await receiver?.close();
    await w?.stop();
  });

  it("embedded in a host page on another origin, themed with the tenant's colours and logo, sized to its content; never showing another consumer", async () => {
    const { context, requests } = await recordingContext(w.browser, { viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    const logs: string[] = [];
    page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
    await page.goto(host.url);
    const frame = await portalFrame(page, w.gw.url);
    await frame
      .getByText(mine.endpointUrl)
      .waitFor({ timeout: 30_000 })
      .catch(async (e) => {
        throw new Error(
          `${String(e)}\nframe ${frame.url()}: ${await frame.evaluate(() => document.body.innerText).catch(String)}\n${logs.join('\n')}`,
        );
      });

    const theme = await frame.evaluate(() => {
      const s = getComputedStyle(document.documentElement);
      const img = document.querySelector('[data-testid="portal-logo"]') as HTMLImageElement | null;
      return {
        primary: s.getPropertyValue('--primary').trim(),
        radius: s.getPropertyValue('--radius').trim(),
        font: s.getPropertyValue('--font'),
        logo: img ? img.complete && img.naturalWidth > 0 : false,
      };
    });
    expect(theme).toMatchObject({ primary: '#0a6b47', radius: '14px', logo: true });
    expect(theme.font).toContain('Georgia');
    // embed.js resized the iframe to the portal's content.
    await until(
      async () => (await page.locator('iframe').evaluate((f: HTMLIFrameElement) => f.style.height)) !== '480px',
      'the iframe to be resized',
    );

    await frame.getByRole('link', { name: 'Messages' }).click();
    await frame.getByRole('link', { name: mine.messageId }).waitFor();
    await frame.getByRole('link', { name: mine.messageId }).click();
    await frame.locator('.attempt').first().waitFor();
    await frame.getByRole('link', { name: 'Event types' }).click();
    await frame.getByRole('link', { name: 'Endpoints' }).click();
    await frame.getByText(mine.endpointUrl).waitFor();
    await page.locator('iframe').scrollIntoViewIfNeeded();
    await shot(page, 'portal-embedded.png');

    // Nothing of the other consumer, in the page or in any answer the portal received.
    const text = await frame.evaluate(() => document.body.innerText);
    for (const s of [theirs.consumer, theirs.endpointUrl, theirs.eventId, theirs.messageId, 'Umbrella']) expect(text).not.toContain(s);
    expect(requests.length).toBeGreaterThan(3);
    for (const r of requests) {
      const u = new URL(r.url);
      expect(u.origin).toBe(w.gw.url);
      const m = /^\/v1\/consumers\/([^/]+)/.exec(u.pathname);
      if (m) expect(m[1]).toBe(mine.consumer);
      for (const s of [theirs.consumer, theirs.endpointUrl, theirs.eventId, theirs.messageId])
        expect(r.body ?? '', `${r.method} ${r.url}`).not.toContain(s);
    }
    // The token cannot be replayed against the other consumer (404) or tenant-wide routes (403).
    const asPortal = client(w.gw.url, portalToken);
    expect((await asPortal.get(`/v1/consumers/${theirs.consumer}/endpoints`)).status).toBe(404);
    expect((await asPortal.get(`/v1/consumers/${theirs.consumer}/messages/${theirs.messageId}`)).status).toBe(404);
    expect((await asPortal.get('/v1/consumers')).status).toBe(403);
    await context.close();
  });

  it('refuses to render inside a page from an origin that is not allowed', async () => {
    const context = await w.browser.newContext();
    const page = await context.newPage();
    const res = await fetch(portalUrl);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain('frame-ancestors');
    expect(csp).toContain(new URL(host.url).origin);
    expect(csp).not.toContain(new URL(other.url).origin);
    await page.goto(other.url);
    const iframe = page.locator('iframe');
    await iframe.waitFor({ state: 'attached' });
    // Chromium replaces a frame refused by frame-ancestors with an error page: the portal never runs in it.
    const frame = await until(() => page.frames().find((f) => f !== page.mainFrame()), 'the iframe');
    await until(() => frame.url().startsWith('chrome-error:') || frame.url() === 'about:blank', 'the frame to be blocked', 15_000).catch(
      () => undefined,
    );
    expect(frame.url().startsWith(`${w.gw.url}/portal/`)).toBe(false);
    expect(
      await frame
        .locator('#root *')
        .count()
        .catch(() => 0),
    ).toBe(0);
    await context.close();
  });

  it('portal screens have no serious or critical axe-core violations', async () => {
    const context = await w.browser.newContext({ viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    await page.goto(portalUrl);
    await page.getByText(mine.endpointUrl).waitFor();
    await expectAccessible(page, 'portal endpoints');
    await page.getByRole('link', { name: mine.endpointUrl }).click();
    await page.getByRole('heading', { name: 'Signing secret' }).waitFor();
    await page.locator('table').waitFor();
    await expectAccessible(page, 'portal endpoint');
    await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Messages' }).click();
    await page.getByRole('link', { name: mine.messageId }).click();
    await page.locator('.attempt').first().waitFor();
    await expectAccessible(page, 'portal message');
    await page.getByRole('navigation', { name: 'Portal' }).getByRole('link', { name: 'Event types' }).click();
    await until(async () => (await page.locator('.state.loading').count()) === 0, 'event types');
    await expectAccessible(page, 'portal event types');
    await context.close();
  });
});
