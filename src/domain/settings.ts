import { notFound } from '../errors.ts';
import * as store from '../store/settings.ts';
import type { DomainDeps } from './deps.ts';

/**
 * A tenant's look (dashboard settings, portal theme, web manifest) and the origins allowed to frame
 * its portal, kept in `tenants.settings` (jsonb) under `branding` and `embedOrigins`; other keys of
 * that document (retry policy, quotas…) are left as they are.
 */
export type ThemeMode = 'light' | 'dark' | 'auto';

export interface Branding {
  name: string;
  logoUrl: string | null;
  primaryColor: string;
  backgroundColor: string;
  textColor: string;
  fontFamily: string;
  mode: ThemeMode;
  radius: number;
}

export interface TenantSettings {
  branding: Branding;
  embedOrigins: string[];
  /** Publishing a type that is not in the catalog answers 422. */
  requireDeclaredEventTypes: boolean;
  /** Days messages and their attempts are kept; null: the operator's default (TRAMLINE_RETENTION_DAYS). */
  retentionDays: number | null;
}

export type BrandingPatch = { [K in keyof Branding]?: Branding[K] | null };
export interface SettingsPatch {
  branding?: BrandingPatch | undefined;
  embedOrigins?: string[] | undefined;
  requireDeclaredEventTypes?: boolean | undefined;
  retentionDays?: number | null | undefined;
}

export const DEFAULT_BRANDING: Omit<Branding, 'name'> = {
  logoUrl: null,
  primaryColor: '#4f46e5',
  backgroundColor: '#ffffff',
  textColor: '#111827',
  fontFamily: 'system-ui, sans-serif',
  mode: 'auto',
  radius: 8,
};

const BRANDING_KEYS = ['name', 'logoUrl', 'primaryColor', 'backgroundColor', 'textColor', 'fontFamily', 'mode', 'radius'] as const;

/** The stored document with defaults filled in; a stored value of the wrong type falls back to the default. */
export function resolveSettings(tenantName: string, stored: Record<string, unknown>): TenantSettings {
  const b = (typeof stored.branding === 'object' && stored.branding !== null ? stored.branding : {}) as Record<string, unknown>;
  const defaults: Branding = { name: tenantName, ...DEFAULT_BRANDING };
  const branding = { ...defaults };
  for (const k of BRANDING_KEYS) {
    const v = b[k];
    if (typeof v === (k === 'radius' ? 'number' : 'string')) (branding as Record<string, unknown>)[k] = v;
  }
  const origins = Array.isArray(stored.embedOrigins) ? stored.embedOrigins.filter((o): o is string => typeof o === 'string') : [];
  const retention = stored.retentionDays;
  return {
    branding,
    embedOrigins: origins,
    requireDeclaredEventTypes: stored.requireDeclaredEventTypes === true,
    retentionDays: typeof retention === 'number' && Number.isInteger(retention) && retention > 0 ? retention : null,
  };
}

/** Tenant-role read of one tenant's settings; null when there is no such tenant. */
export async function findSettings(
  deps: DomainDeps,
  tenantId: string,
): Promise<(TenantSettings & { tenant: { id: string; name: string } }) | null> {
  const row = await deps.db.tenant(tenantId, (q) => store.readTenantSettings(q, tenantId));
  return row ? { tenant: { id: tenantId, name: row.name }, ...resolveSettings(row.name, row.settings) } : null;
}

export async function getSettings(deps: DomainDeps, tenantId: string): Promise<TenantSettings> {
  const s = await findSettings(deps, tenantId);
  if (!s) throw notFound('Tenant');
  return {
    branding: s.branding,
    embedOrigins: s.embedOrigins,
    requireDeclaredEventTypes: s.requireDeclaredEventTypes,
    retentionDays: s.retentionDays,
  };
}

/** Merges a patch: a field sent replaces the stored one, `null` removes it (back to the default). */
export async function patchSettings(deps: DomainDeps, tenantId: string, patch: SettingsPatch): Promise<TenantSettings> {
  const row = await deps.db.tenant(tenantId, (q) =>
    store.updateTenantSettings(q, tenantId, (current) => {
      const next = { ...current };
      if (patch.branding) {
        const b = { ...((typeof current.branding === 'object' && current.branding) || {}) } as Record<string, unknown>;
        for (const [k, v] of Object.entries(patch.branding)) {
          if (v === undefined) continue;
          if (v === null) delete b[k];
          else b[k] = v;
        }
        next.branding = b;
      }
      if (patch.requireDeclaredEventTypes !== undefined) next.requireDeclaredEventTypes = patch.requireDeclaredEventTypes;
      if (patch.retentionDays === null) delete next.retentionDays;
      else if (patch.retentionDays !== undefined) next.retentionDays = patch.retentionDays;
      if (patch.embedOrigins) next.embedOrigins = [...new Set(patch.embedOrigins.map((o) => new URL(o).origin))];
      return next;
    }),
  );
  if (!row) throw notFound('Tenant');
  return resolveSettings(row.name, row.settings);
}
