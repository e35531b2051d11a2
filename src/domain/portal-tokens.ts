import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * Portal tokens: short-lived, stateless bearer tokens scoped to one consumer of one tenant, for a
 * customer-facing portal. `tlp_<base64url(JSON {t, c, exp})>.<base64url(HMAC-SHA256)>`, signed with a
 * key derived (HKDF) from the current master key, so rotating the master key ends every token issued
 * under the old one. Nothing is stored: a token cannot be revoked before it expires (at most 24 hours).
 * Pure: the key and the time are passed in.
 */
export const PORTAL_TOKEN_PREFIX = 'tlp_';

export interface PortalClaims {
  /** Tenant id. */
  t: string;
  /** Consumer id (never the uid: a uid can be changed and reused). */
  c: string;
  /** Expiry, unix seconds. */
  exp: number;
}

const INFO = 'tramline portal token v1';

/** The signing key of portal tokens: HKDF-SHA256 over a master key, domain-separated from its other uses. */
export function derivePortalKey(masterKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), INFO, 32));
}

const mac = (key: Buffer, body: string): Buffer =>
  createHmac('sha256', key)
    .update(PORTAL_TOKEN_PREFIX + body)
    .digest();

export function signPortalToken(key: Buffer, claims: PortalClaims): string {
  const body = Buffer.from(JSON.stringify({ t: claims.t, c: claims.c, exp: claims.exp })).toString('base64url');
  return `${PORTAL_TOKEN_PREFIX}${body}.${mac(key, body).toString('base64url')}`;
}

/** The claims of a genuine, unexpired token; null for anything else (malformed, tampered, other key, expired). */
export function verifyPortalToken(key: Buffer, token: string, now: Date): PortalClaims | null {
  if (!token.startsWith(PORTAL_TOKEN_PREFIX) || token.length > 2048) return null;
  const rest = token.slice(PORTAL_TOKEN_PREFIX.length);
  const dot = rest.indexOf('.');
  if (dot <= 0 || dot !== rest.lastIndexOf('.')) return null;
  const body = rest.slice(0, dot);
  const sig = rest.slice(dot + 1);
  if (!/^[A-Za-z0-9_-]+$/.test(body) || !/^[A-Za-z0-9_-]+$/.test(sig)) return null;
  const given = Buffer.from(sig, 'base64url');
  // One spelling per token: base64url with unused bits set in its last character decodes to the same
  // bytes, so a token could be replayed under other spellings (different cache keys, log lines, audit ids).
  if (given.toString('base64url') !== sig || Buffer.from(body, 'base64url').toString('base64url') !== body) return null;
  const expected = mac(key, body);
  // Lengths are public (always 32 bytes for a real token); the bytes are compared in constant time.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (typeof claims !== 'object' || claims === null) return null;
  const { t, c, exp } = claims as Record<string, unknown>;
  if (typeof t !== 'string' || !t || typeof c !== 'string' || !c || typeof exp !== 'number' || !Number.isSafeInteger(exp)) return null;
  if (exp * 1000 <= now.getTime()) return null;
  return { t, c, exp };
}
