export function fmtDate(s: string | null | undefined): string {
  if (!s) return '—';
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? s : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

export function fmtMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

export function fmtNum(n: number | null | undefined): string {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  return n.toLocaleString(undefined, { maximumFractionDigits: 2 });
}

export function fmtPct(x: number | null | undefined): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  return `${(x * 100).toFixed(x === 1 ? 0 : 1)} %`;
}

/** Untrusted text shown in the page: cut to `max` characters (React escapes it when rendering). */
export function cap(s: string | null | undefined, max = 4096): { text: string; cut: boolean } {
  if (!s) return { text: '', cut: false };
  return s.length > max ? { text: s.slice(0, max), cut: true } : { text: s, cut: false };
}

export function pretty(v: unknown): string {
  try {
    return JSON.stringify(v, null, 2);
  } catch {
    return String(v);
  }
}

/** The claims of a portal token (`tlp_<base64url JSON>.<mac>`), read without verifying (the server does). */
export function portalClaims(token: string): { t: string; c: string; exp: number } | null {
  if (!token.startsWith('tlp_')) return null;
  const body = token.slice(4).split('.')[0] ?? '';
  try {
    const json = atob(body.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (body.length % 4)) % 4));
    const c = JSON.parse(json) as { t?: unknown; c?: unknown; exp?: unknown };
    if (typeof c.t !== 'string' || typeof c.c !== 'string' || typeof c.exp !== 'number') return null;
    return { t: c.t, c: c.c, exp: c.exp };
  } catch {
    return null;
  }
}
