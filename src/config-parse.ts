/** Parsers of list-valued settings (config.ts); the dashboard's settings route checks origins with the same one. */

/** `https://app.example.com, http://localhost:5173` → exact origins (scheme, host, port; no path, no wildcard). */
export function parseOrigins(list: string): string[] {
  const out: string[] = [];
  for (const raw of list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    let u: URL | null = null;
    try {
      u = new URL(raw);
    } catch {
      /* reported below */
    }
    if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:') || u.origin !== raw.replace(/\/$/, '')) {
      throw new Error(`"${raw}" is not an origin: give scheme, host and optional port only (e.g. https://app.example.com)`);
    }
    out.push(u.origin);
  }
  return out;
}

/** TRAMLINE_TRUST_PROXY: '' (trust no proxy), 'true', a number of hops, or addresses/CIDRs separated by commas. */
export function parseTrustProxy(v: string): boolean | number | string[] {
  const t = v.trim();
  if (t === '' || t === 'false') return false;
  if (t === 'true') return true;
  if (/^\d+$/.test(t)) return Number(t);
  return t
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
