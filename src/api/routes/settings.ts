import { z } from 'zod';
import { parseOrigins } from '../../config-parse.ts';
import { findSettings, getSettings, patchSettings } from '../../domain/settings.ts';
import { notFound } from '../../errors.ts';
import { tenantOf } from '../plugins/auth.ts';
import { Problem } from '../schemas/common.ts';
import { TenantRef } from '../schemas/dashboard.ts';
import type { Api, ApiDeps } from '../types.ts';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** https, or http on the local machine (development). */
function isSafeUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return u.protocol === 'https:' || (u.protocol === 'http:' && LOCAL_HOSTS.has(u.hostname));
  } catch {
    return false;
  }
}

/** One exact origin, as TRAMLINE_CORS_ORIGINS takes them: scheme, host and port, no path, no wildcard. */
function isOrigin(v: string): boolean {
  if (v.includes(',') || v.includes('*')) return false;
  try {
    return parseOrigins(v).length === 1;
  } catch {
    return false;
  }
}

const Colour = z
  .string()
  .regex(/^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/, 'must be a hex colour (#rgb or #rrggbb)')
  .meta({ examples: ['#5b21b6'] });

const BrandingOut = z.object({
  name: z.string(),
  logoUrl: z.string().nullable(),
  primaryColor: z.string(),
  backgroundColor: z.string(),
  textColor: z.string(),
  fontFamily: z.string(),
  mode: z.enum(['light', 'dark', 'auto']),
  radius: z.number().int(),
});
const SettingsOut = z.object({
  branding: BrandingOut,
  embedOrigins: z.array(z.string()),
  requireDeclaredEventTypes: z.boolean().describe('Publishing a type missing from the catalog answers 422 (undeclared-event-type)'),
  retentionDays: z
    .number()
    .int()
    .nullable()
    .describe('Days messages, their deliveries and attempts are kept; null: the operator’s default (TRAMLINE_RETENTION_DAYS)'),
});

const BrandingPatch = z
  .object({
    name: z.string().trim().min(1).max(100).nullable().optional(),
    logoUrl: z.string().max(2048).refine(isSafeUrl, 'must be an https:// URL (or http://localhost)').nullable().optional(),
    primaryColor: Colour.nullable().optional(),
    backgroundColor: Colour.nullable().optional(),
    textColor: Colour.nullable().optional(),
    fontFamily: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[A-Za-z0-9 ,'"-]+$/, 'must be a CSS font-family list (letters, digits, spaces and , \' " -)')
      .nullable()
      .optional(),
    mode: z.enum(['light', 'dark', 'auto']).nullable().optional(),
    radius: z.number().int().min(0).max(32).nullable().optional(),
  })
  .strict();

const SettingsPatch = z
  .object({
    branding: BrandingPatch.optional(),
    embedOrigins: z
      .array(z.string().max(300).refine(isOrigin, 'must be an origin: scheme, host and optional port only (e.g. https://shop.example.com)'))
      .max(50)
      .optional()
      .describe('Origins allowed to frame the portal (CSP frame-ancestors); empty: only this gateway’s own pages'),
    requireDeclaredEventTypes: z.boolean().optional().describe('true: every published type must be in the catalog (422 otherwise)'),
    retentionDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .nullable()
      .optional()
      .describe('Days to keep messages and their attempts (1 to 3650); null: back to the operator’s default'),
  })
  .strict();

const ThemeOut = z.object({ tenant: TenantRef, branding: BrandingOut });

/** The tenant's branding and embedding settings; the portal reads its theme with its own token. */
export function settingsRoutes(app: Api, deps: ApiDeps): void {
  const security = [{ apiKey: [] }, { session: [] }] as Array<Record<string, string[]>>;
  app.get('/v1/settings', {
    config: { access: 'read' },
    schema: {
      tags: ['settings'],
      security,
      operationId: 'getSettings',
      summary: 'The tenant’s branding and allowed embed origins',
      description: 'Read scope. The branding themes the portal and the tenant’s installable app; the origins may frame the portal.',
      response: { 200: SettingsOut, 401: Problem, 403: Problem },
    },
    handler: (req) => getSettings(deps, tenantOf(req)),
  });
  app.patch('/v1/settings', {
    config: { access: 'admin' },
    schema: {
      tags: ['settings'],
      security,
      operationId: 'updateSettings',
      summary: 'Change the branding (null resets a field to its default) or the allowed embed origins',
      description: 'Admin scope. Fields not sent keep their value; colours are hex, logo URLs https, origins exact.',
      body: SettingsPatch,
      response: { 200: SettingsOut, 400: Problem, 401: Problem, 403: Problem },
    },
    handler: async (req) => {
      const s = await patchSettings(deps, tenantOf(req), req.body);
      deps.catalog?.invalidate(tenantOf(req));
      return s;
    },
  });
  app.get('/v1/portal/theme', {
    config: { access: 'read', portal: true },
    schema: {
      tags: ['settings'],
      security,
      operationId: 'getPortalTheme',
      summary: 'The portal’s theme: the tenant’s name and branding (a portal token may call it)',
      description: 'A portal token or a read key; the portal applies it as CSS variables.',
      response: { 200: ThemeOut, 401: Problem, 403: Problem },
    },
    handler: async (req) => {
      const s = await findSettings(deps, tenantOf(req));
      if (!s) throw notFound('Tenant');
      return { tenant: s.tenant, branding: s.branding };
    },
  });
}
