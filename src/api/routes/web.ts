import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, notFound } from '../../errors.ts';
import { DEFAULT_BRANDING, findSettings, type Branding } from '../../domain/settings.ts';
import { iconPng, iconSvg, safeColour } from '../web/icons.ts';
import type { ApiDeps } from '../types.ts';

/**
 * The web app's pages, served by the api role from the Vite build in `dist/web/` (web/ builds it):
 *  - `/app`, `/app/*`: the dashboard (SPA: any path without a file is `app/index.html`);
 *  - `/portal/{tenant}`, `/portal/{tenant}/*`: the portal of one tenant (SPA, `portal/index.html`);
 *  - `/assets/*` (and `/app/assets/*`, `/portal/assets/*`): hashed build files, cached for a year;
 *  - `/embed.js`: the script a tenant puts on its own pages to frame the portal;
 *  - the web manifests and icons, which need no build (generated from the tenant's settings).
 *
 * Content-Security-Policy per page: scripts from this origin only; the dashboard may not be framed
 * (`frame-ancestors 'none'`); a tenant's portal may be framed by this origin and the tenant's
 * `embedOrigins` only (its settings), so it refuses to render inside any other site.
 */
const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "script-src-attr 'none'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: https:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "manifest-src 'self'",
  "worker-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

export const DASHBOARD_CSP = `${PAGE_CSP}; frame-ancestors 'none'`;
export const portalCsp = (embedOrigins: readonly string[]): string =>
  `${PAGE_CSP}; frame-ancestors ${["'self'", ...embedOrigins].join(' ')}`;

const TENANT_ID = /^ten_[0-9a-z]{26}$/;
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** `dist/web` of the package this file belongs to (src/ or a compiled dist/ alike): the nearest folder up with a package.json. */
export function defaultWebDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'dist', 'web');
    dir = path.dirname(dir);
  }
  return path.resolve('dist', 'web');
}

export async function webRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const root = path.resolve(deps.webDir ?? defaultWebDir());
  // Encapsulated: reply.sendFile stays ours (the docs' Swagger UI registers @fastify/static too).
  await app.register(async (web) => {
    await web.register(fastifyStatic, { root, serve: false, decorateReply: true });

    const notBuilt = (what: string): AppError =>
      new AppError(
        'NOT_FOUND',
        `The web app is not built (${path.join(root, what)} is missing): run \`npm run build\`, or set TRAMLINE_WEB_DIR`,
      );

    /** A file of the build, or null: no '..', no hidden files, regular files only. */
    const fileOf = (rel: string): string | null => {
      if (!rel || rel.split('/').some((s) => s === '' || s === '.' || s === '..' || s.startsWith('.'))) return null;
      try {
        return fs.statSync(path.join(root, rel)).isFile() ? rel : null;
      } catch {
        return null;
      }
    };

    const sendAsset = (reply: FastifyReply, rel: string): FastifyReply => {
      const hashed = rel.includes('/assets/') || rel.startsWith('assets/');
      return reply.sendFile(rel, root, { cacheControl: false }).header('cache-control', hashed ? IMMUTABLE : 'no-cache');
    };

    const sendPage = (reply: FastifyReply, page: 'app' | 'portal', csp: string): FastifyReply => {
      const rel = `${page}/index.html`;
      if (!fileOf(rel)) throw notBuilt(rel);
      reply.header('content-security-policy', csp).header('cache-control', 'no-cache');
      if (page === 'portal') reply.removeHeader('x-frame-options'); // frame-ancestors decides
      return reply.sendFile(rel, root, { cacheControl: false });
    };

    const tenantSettings = async (
      tenant: string,
    ): Promise<{ tenant: { id: string; name: string }; branding: Branding; embedOrigins: string[] }> => {
      const s = TENANT_ID.test(tenant) ? await findSettings(deps, tenant) : null;
      if (!s) throw notFound('Tenant');
      return s;
    };

    // --- dashboard ----------------------------------------------------------------
    web.get('/app', { schema: { hide: true } }, async (_req, reply) => sendPage(reply, 'app', DASHBOARD_CSP));
    web.get('/app/manifest.webmanifest', { schema: { hide: true } }, async (req, reply) => {
      const tenant = (req.query as Record<string, unknown>).tenant;
      const s = typeof tenant === 'string' && TENANT_ID.test(tenant) ? await findSettings(deps, tenant) : null;
      const branding = s?.branding ?? { name: 'Tramline', ...DEFAULT_BRANDING };
      const icons = s ? `/portal/${s.tenant.id}` : '/app';
      return sendManifest(reply, manifest(branding, '/app/', '/app/', icons, s ? `${branding.name} dashboard` : 'Tramline dashboard'));
    });
    for (const [file, send] of iconRoutes())
      web.get(`/app/${file}`, { schema: { hide: true } }, async (_req, reply) => send(reply, { name: 'Tramline', ...DEFAULT_BRANDING }));
    web.get('/app/*', { schema: { hide: true } }, async (req, reply) => {
      const rel = fileOf(`app/${wildcard(req)}`);
      if (rel && rel !== 'app/index.html') return sendAsset(reply, rel);
      return sendPage(reply, 'app', DASHBOARD_CSP);
    });

    // --- portal -----------------------------------------------------------------------
    web.get('/portal/assets/*', { schema: { hide: true } }, async (req, reply) => {
      const rel = fileOf(`portal/assets/${wildcard(req)}`);
      if (!rel) throw notFound('File');
      return sendAsset(reply, rel);
    });
    web.get('/portal/:tenant', { schema: { hide: true } }, async (req, reply) => {
      const tenant = (req.params as { tenant: string }).tenant;
      const file = fileOf(`portal/${tenant}`);
      if (file && file !== 'portal/index.html') return sendAsset(reply, file);
      if (!fileOf('portal/index.html')) throw notBuilt('portal/index.html');
      const s = await tenantSettings(tenant);
      return sendPage(reply, 'portal', portalCsp(s.embedOrigins));
    });
    web.get('/portal/:tenant/manifest.webmanifest', { schema: { hide: true } }, async (req, reply) => {
      const s = await tenantSettings((req.params as { tenant: string }).tenant);
      const base = `/portal/${s.tenant.id}`;
      return sendManifest(reply, manifest(s.branding, `${base}/`, `${base}/`, base, s.branding.name));
    });
    for (const [file, send] of iconRoutes()) {
      web.get(`/portal/:tenant/${file}`, { schema: { hide: true } }, async (req, reply) =>
        send(reply, (await tenantSettings((req.params as { tenant: string }).tenant)).branding),
      );
    }
    web.get('/portal/:tenant/*', { schema: { hide: true } }, async (req, reply) => {
      if (!fileOf('portal/index.html')) throw notBuilt('portal/index.html');
      const s = await tenantSettings((req.params as { tenant: string }).tenant);
      return sendPage(reply, 'portal', portalCsp(s.embedOrigins));
    });

    // --- build files at the root --------------------------------------------------------
    web.get('/assets/*', { schema: { hide: true } }, async (req, reply) => {
      const rel = fileOf(`assets/${wildcard(req)}`);
      if (!rel) throw notFound('File');
      return sendAsset(reply, rel);
    });
    web.get('/embed.js', { schema: { hide: true } }, async (_req, reply) => {
      if (!fileOf('embed.js')) throw notBuilt('embed.js');
      // Loaded by <script> from the tenant's own pages: another origin.
      reply.header('cross-origin-resource-policy', 'cross-origin').header('access-control-allow-origin', '*');
      return reply.sendFile('embed.js', root, { cacheControl: false }).header('cache-control', 'public, max-age=300');
    });
  });
}

const wildcard = (req: FastifyRequest): string => (req.params as Record<string, string>)['*'] ?? '';

interface Manifest {
  name: string;
  short_name: string;
  id: string;
  start_url: string;
  scope: string;
  display: 'standalone';
  theme_color: string;
  background_color: string;
  icons: { src: string; sizes: string; type: string; purpose?: string }[];
}

function manifest(b: Branding, startUrl: string, scope: string, iconBase: string, name: string): Manifest {
  const icons: Manifest['icons'] = [
    { src: `${iconBase}/icon-192.png`, sizes: '192x192', type: 'image/png', purpose: 'any' },
    { src: `${iconBase}/icon-512.png`, sizes: '512x512', type: 'image/png', purpose: 'any' },
    { src: `${iconBase}/icon-512.png`, sizes: '512x512', type: 'image/png', purpose: 'maskable' },
    { src: `${iconBase}/icon.svg`, sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
  ];
  if (b.logoUrl) icons.unshift({ src: b.logoUrl, sizes: 'any', type: logoType(b.logoUrl), purpose: 'any' });
  return {
    name,
    short_name: [...b.name].slice(0, 12).join(''),
    id: startUrl,
    start_url: startUrl,
    scope,
    display: 'standalone',
    theme_color: safeColour(b.primaryColor, DEFAULT_BRANDING.primaryColor),
    background_color: safeColour(b.backgroundColor, DEFAULT_BRANDING.backgroundColor),
    icons,
  };
}

function logoType(url: string): string {
  const ext = new URL(url).pathname.split('.').pop()?.toLowerCase();
  return ext === 'svg' ? 'image/svg+xml' : ext === 'jpg' || ext === 'jpeg' ? 'image/jpeg' : ext === 'webp' ? 'image/webp' : 'image/png';
}

const sendManifest = (reply: FastifyReply, m: Manifest): FastifyReply =>
  reply.type('application/manifest+json').header('cache-control', 'no-cache').send(JSON.stringify(m));

type IconSender = (reply: FastifyReply, b: Branding) => FastifyReply;

function iconRoutes(): Array<[string, IconSender]> {
  const colour = (b: Branding): string => safeColour(b.primaryColor, DEFAULT_BRANDING.primaryColor);
  const cache = (reply: FastifyReply): FastifyReply => reply.header('cache-control', 'public, max-age=300');
  return [
    [
      'icon.svg',
      (reply, b) =>
        cache(reply)
          .type('image/svg+xml')
          .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
          .send(iconSvg(b.name, colour(b))),
    ],
    [
      'icon-192.png',
      (reply, b) =>
        cache(reply)
          .type('image/png')
          .send(iconPng(colour(b), 192)),
    ],
    [
      'icon-512.png',
      (reply, b) =>
        cache(reply)
          .type('image/png')
          .send(iconPng(colour(b), 512)),
    ],
  ];
}
