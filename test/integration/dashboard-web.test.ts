/**
 * Tenant settings (branding, embed origins) and the web app's pages: validation of settings, the
 * portal theme, the CSP of the dashboard and of each tenant's portal (frame-ancestors from its
 * embed origins), SPA fallback, hashed assets, embed.js, per-tenant manifests and icons, and a clear
 * 404 when the web app is not built. Both engines.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, type Response } from '../helpers/client.ts';
import { createTenant, startTestGateway, type TestGateway, type TestTenant } from '../helpers/gateway.ts';
import { userOf } from '../helpers/dashboard.ts';

let gw: TestGateway;
let bare: TestGateway; // no build folder
let A: TestTenant;
let B: TestTenant;
let webDir: string;

function expectProblem(r: Response, status: number, what = ''): void {
  expect(r.status, `${what} (${JSON.stringify(r.body)})`).toBe(status);
  expect(r.headers.get('content-type') ?? '').toMatch(/^application\/problem\+json/);
}

const frameAncestors = (r: Response): string => /frame-ancestors ([^;]+)/.exec(r.headers.get('content-security-policy') ?? '')?.[1] ?? '';

beforeAll(async () => {
  webDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-web-'));
  fs.mkdirSync(path.join(webDir, 'app'));
  fs.mkdirSync(path.join(webDir, 'portal'));
  fs.mkdirSync(path.join(webDir, 'assets'));
  fs.writeFileSync(path.join(webDir, 'app', 'index.html'), '<!doctype html><title>dashboard</title>');
  fs.writeFileSync(path.join(webDir, 'app', 'sw.js'), 'self.addEventListener("fetch", () => {});');
  fs.writeFileSync(path.join(webDir, 'portal', 'index.html'), '<!doctype html><title>portal</title>');
  fs.writeFileSync(path.join(webDir, 'assets', 'main-AbC123.js'), 'console.log(1)');
  fs.writeFileSync(path.join(webDir, 'embed.js'), '/* embed */');
  fs.writeFileSync(path.join(webDir, '.secret'), 'hidden');
  gw = await startTestGateway({ env: { TRAMLINE_WEB_DIR: webDir } });
  A = await createTenant(gw, 'Acme Shop');
  B = await createTenant(gw, 'Globex');
  bare = await startTestGateway({ env: { TRAMLINE_WEB_DIR: path.join(webDir, 'missing') }, role: 'api' });
});
afterAll(async () => {
  await gw?.stop();
  await bare?.stop();
  fs.rmSync(webDir, { recursive: true, force: true });
});

describe('settings', () => {
  it('GET answers the defaults: the tenant’s name, default colours, no embed origins', async () => {
    const r = await A.api.get('/v1/settings');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      branding: {
        name: 'Acme Shop',
        logoUrl: null,
        primaryColor: '#4f46e5',
        backgroundColor: '#ffffff',
        textColor: '#111827',
        fontFamily: 'system-ui, sans-serif',
        mode: 'auto',
        radius: 8,
      },
      embedOrigins: [],
      requireDeclaredEventTypes: false,
      retentionDays: null,
    });
  });

  it('PATCH merges, null resets a field, and every field is validated (400 naming it)', async () => {
    const r = await A.api.patch('/v1/settings', {
      branding: {
        primaryColor: '#0A7',
        logoUrl: 'https://cdn.acme.test/logo.svg',
        mode: 'dark',
        radius: 12,
        fontFamily: "'Inter', sans-serif",
      },
      embedOrigins: ['https://shop.acme.test', 'http://localhost:5173/'],
    });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.branding).toMatchObject({
      name: 'Acme Shop',
      primaryColor: '#0A7',
      logoUrl: 'https://cdn.acme.test/logo.svg',
      mode: 'dark',
      radius: 12,
    });
    expect(r.body.embedOrigins).toEqual(['https://shop.acme.test', 'http://localhost:5173']);
    const r2 = await A.api.patch('/v1/settings', { branding: { name: 'Acme', mode: null } });
    expect(r2.body.branding).toMatchObject({ name: 'Acme', mode: 'auto', primaryColor: '#0A7' });
    expect(r2.body.embedOrigins).toEqual(['https://shop.acme.test', 'http://localhost:5173']);
    expect((await A.api.get('/v1/settings')).body).toEqual(r2.body);

    const bad: Array<[unknown, string]> = [
      [{ branding: { primaryColor: 'red' } }, 'body.branding.primaryColor'],
      [{ branding: { primaryColor: '#12345' } }, 'body.branding.primaryColor'],
      [{ branding: { textColor: '#fff;background:url(x)' } }, 'body.branding.textColor'],
      [{ branding: { logoUrl: 'http://cdn.acme.test/logo.png' } }, 'body.branding.logoUrl'],
      [{ branding: { logoUrl: 'javascript:alert(1)' } }, 'body.branding.logoUrl'],
      [{ branding: { fontFamily: 'x; } body { display:none' } }, 'body.branding.fontFamily'],
      [{ branding: { mode: 'neon' } }, 'body.branding.mode'],
      [{ branding: { radius: 99 } }, 'body.branding.radius'],
      [{ branding: { favicon: 'x' } }, 'body.branding.favicon'],
      [{ embedOrigins: ['https://shop.acme.test/path'] }, 'body.embedOrigins.0'],
      [{ embedOrigins: ['https://*.acme.test'] }, 'body.embedOrigins.0'],
      [{ embedOrigins: ['ftp://acme.test'] }, 'body.embedOrigins.0'],
      [{ embedOrigins: ["https://a.test 'unsafe-inline'"] }, 'body.embedOrigins.0'],
      [{ theme: {} }, 'body.theme'],
    ];
    for (const [body, field] of bad) {
      const x = await A.api.patch('/v1/settings', body);
      expectProblem(x, 400, JSON.stringify(body));
      expect(
        x.body.errors.map((e: { field: string }) => e.field),
        JSON.stringify(body),
      ).toContain(field);
    }
    // Nothing of that was stored.
    expect((await A.api.get('/v1/settings')).body).toEqual(r2.body);
  });

  it('a viewer reads the settings but cannot change them; B’s settings are its own', async () => {
    const viewer = await userOf(gw, A, 'viewer@web.test', 'viewer');
    expect((await viewer.api.get('/v1/settings')).body.branding.name).toBe('Acme');
    expectProblem(await viewer.api.patch('/v1/settings', { branding: { name: 'Hacked' } }), 403, 'viewer patch');
    const dev = await userOf(gw, A, 'dev@web.test', 'developer');
    expect((await dev.api.patch('/v1/settings', { branding: { textColor: '#222222' } })).status).toBe(200);
    expect((await B.api.get('/v1/settings')).body).toMatchObject({
      branding: { name: 'Globex', primaryColor: '#4f46e5' },
      embedOrigins: [],
    });
  });

  it('GET /v1/portal/theme answers the tenant’s branding to its portal tokens', async () => {
    const c = (await A.api.post('/v1/consumers', { name: 'c' })).body;
    const s = (await A.api.post(`/v1/consumers/${c.id}/portal-sessions`, {})).body;
    expect(s.url).toBe(`/portal/${A.id}#token=${s.token}`);
    const t = await client(gw.url, s.token).get('/v1/portal/theme');
    expect(t.status, JSON.stringify(t.body)).toBe(200);
    expect(t.body).toMatchObject({
      tenant: { id: A.id, name: 'Acme Shop' },
      branding: { name: 'Acme', primaryColor: '#0A7', logoUrl: 'https://cdn.acme.test/logo.svg' },
    });
    expectProblem(await client(gw.url).get('/v1/portal/theme'), 401, 'no token');
    expectProblem(await client(gw.url, s.token).get('/v1/settings'), 403, 'portal token on settings');
  });
});

describe('pages', () => {
  it('the dashboard: index.html on /app and any unknown path below (SPA), never framed, scripts from self', async () => {
    for (const p of ['/app', '/app/', '/app/consumers/con_1/endpoints', '/app/accept-invite']) {
      const r = await client(gw.url).get(p);
      expect(r.status, p).toBe(200);
      expect(r.headers.get('content-type'), p).toMatch(/^text\/html/);
      expect(r.body, p).toContain('<title>dashboard</title>');
      expect(frameAncestors(r), p).toBe("'none'");
      expect(r.headers.get('content-security-policy'), p).toMatch(/script-src 'self'(;|$)/);
      expect(r.headers.get('cache-control'), p).toBe('no-cache');
    }
    const sw = await client(gw.url).get('/app/sw.js');
    expect(sw.status).toBe(200);
    expect(sw.headers.get('content-type')).toMatch(/javascript/);
    expect(sw.body).toContain('addEventListener');
  });

  it('hashed assets are cached for a year; hidden files and path tricks are not served', async () => {
    const a = await client(gw.url).get('/assets/main-AbC123.js');
    expect(a.status).toBe(200);
    expect(a.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expectProblem(await client(gw.url).get('/assets/missing.js'), 404, 'missing asset');
    expect((await client(gw.url).get('/assets/%2e%2e/.secret')).status).toBe(404);
    expect((await client(gw.url).get('/app/..%2f.secret')).body).not.toContain('hidden');
    expect((await client(gw.url).get('/app/../.secret')).body).not.toContain('hidden');
  });

  it('a tenant’s portal may be framed by its embed origins only; another tenant’s by none but self', async () => {
    const a = await client(gw.url).get(`/portal/${A.id}`);
    expect(a.status).toBe(200);
    expect(a.body).toContain('<title>portal</title>');
    expect(frameAncestors(a)).toBe("'self' https://shop.acme.test http://localhost:5173");
    expect(a.headers.get('x-frame-options')).toBeNull();
    expect(a.headers.get('content-security-policy')).toMatch(/script-src 'self'(;|$)/);
    const deep = await client(gw.url).get(`/portal/${A.id}/endpoints/ep_1`);
    expect(deep.status).toBe(200);
    expect(frameAncestors(deep)).toBe(frameAncestors(a));

    const b = await client(gw.url).get(`/portal/${B.id}`);
    expect(b.status).toBe(200);
    expect(frameAncestors(b)).toBe("'self'");

    // A change of settings applies to the next page load.
    await B.api.patch('/v1/settings', { embedOrigins: ['https://globex.test:8443'] });
    expect(frameAncestors(await client(gw.url).get(`/portal/${B.id}`))).toBe("'self' https://globex.test:8443");

    expectProblem(await client(gw.url).get('/portal/ten_01jz0000000000000000000000'), 404, 'unknown tenant');
    expectProblem(await client(gw.url).get('/portal/not-a-tenant'), 404, 'not a tenant id');
  });

  it('embed.js loads from other origins', async () => {
    const r = await client(gw.url).get('/embed.js');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/javascript/);
    expect(r.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
  });

  it('without a build: a 404 problem that says to run npm run build', async () => {
    for (const p of ['/app', '/app/x', `/portal/${A.id}`, '/embed.js']) {
      const r = await client(bare.url).get(p);
      expectProblem(r, 404, p);
      expect(r.body.detail, p).toMatch(/npm run build/);
    }
    // Manifests need no build.
    expect((await client(bare.url).get('/app/manifest.webmanifest')).status).toBe(200);
  });
});

describe('web manifests and icons', () => {
  it('each tenant’s portal has its own manifest: its name, theme colour and icons', async () => {
    const r = await client(gw.url).get(`/portal/${A.id}/manifest.webmanifest`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/manifest\+json/);
    expect(r.body).toMatchObject({
      name: 'Acme',
      short_name: 'Acme',
      start_url: `/portal/${A.id}/`,
      scope: `/portal/${A.id}/`,
      display: 'standalone',
      theme_color: '#0A7',
      background_color: '#ffffff',
    });
    const srcs = r.body.icons.map((i: { src: string }) => i.src);
    expect(srcs).toContain('https://cdn.acme.test/logo.svg');
    expect(srcs).toContain(`/portal/${A.id}/icon-192.png`);
    expect(srcs).toContain(`/portal/${A.id}/icon-512.png`);

    const b = (await client(gw.url).get(`/portal/${B.id}/manifest.webmanifest`)).body;
    expect(b).toMatchObject({ name: 'Globex', theme_color: '#4f46e5' });
    expectProblem(await client(gw.url).get('/portal/ten_01jz0000000000000000000000/manifest.webmanifest'), 404, 'unknown tenant');

    const app = (await client(gw.url).get('/app/manifest.webmanifest')).body;
    expect(app).toMatchObject({ name: 'Tramline dashboard', start_url: '/app/', scope: '/app/', display: 'standalone' });
    const appA = (await client(gw.url).get(`/app/manifest.webmanifest?tenant=${A.id}`)).body;
    expect(appA).toMatchObject({ name: 'Acme dashboard', theme_color: '#0A7', start_url: '/app/' });
  });

  it('icons are generated in the tenant’s colour: PNG 192 and 512, and an SVG', async () => {
    for (const [size, p] of [
      [192, `/portal/${A.id}/icon-192.png`],
      [512, `/portal/${A.id}/icon-512.png`],
      [192, '/app/icon-192.png'],
    ] as const) {
      const res = await fetch(gw.url + p);
      expect(res.status, p).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/png');
      const png = Buffer.from(await res.arrayBuffer());
      expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
      expect(png.readUInt32BE(16)).toBe(size);
      expect(png.readUInt32BE(20)).toBe(size);
    }
    const svg = await client(gw.url).get(`/portal/${B.id}/icon.svg`);
    expect(svg.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(svg.body).toContain('fill="#4f46e5"');
    expect(svg.body).toContain('>G</text>');
  });
});
