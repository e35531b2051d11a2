// Standard Webhooks signing (https://www.standardwebhooks.com/):
// signature = base64(HMAC-SHA256(key, `${msgId}.${timestampSec}.${body}`)),
// sent as `webhook-signature: v1,<sig> [v1,<sig2> ...]`.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const PREFIX = 'whsec_';
const SECRET_BYTES = 24;
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;
// Buffer.from(..., 'base64') silently skips junk, so validate the alphabet first.
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export const DEFAULT_TOLERANCE_SEC = 300;

export function generateSecret(): string {
  return PREFIX + randomBytes(SECRET_BYTES).toString('base64');
}

export function isValidSecret(secret: string): boolean {
  return decodeKey(secret) !== null;
}

function decodeKey(secret: string): Buffer | null {
  if (typeof secret !== 'string' || !secret.startsWith(PREFIX)) return null;
  const encoded = secret.slice(PREFIX.length);
  if (encoded === '' || !BASE64_RE.test(encoded)) return null;
  const key = Buffer.from(encoded, 'base64');
  return key.length >= MIN_KEY_BYTES && key.length <= MAX_KEY_BYTES ? key : null;
}

function keyOrThrow(secret: string): Buffer {
  const key = decodeKey(secret);
  // An invalid secret is a configuration bug, not a property of the message: fail loudly.
  if (key === null) throw new Error('Invalid webhook secret: expected whsec_ followed by base64 of 24..64 bytes');
  return key;
}

function digest(key: Buffer, msgId: string, timestampSec: number, body: string): string {
  return createHmac('sha256', key).update(`${msgId}.${timestampSec}.${body}`, 'utf8').digest('base64');
}

function checkTimestamp(timestampSec: number): void {
  if (!Number.isSafeInteger(timestampSec) || timestampSec < 0) {
    throw new Error(`Invalid webhook timestamp ${timestampSec}: expected whole seconds since the epoch`);
  }
}

/** One `v1,<base64>` signature. */
export function sign(secret: string, msgId: string, timestampSec: number, body: string): string {
  checkTimestamp(timestampSec);
  return `v1,${digest(keyOrThrow(secret), msgId, timestampSec, body)}`;
}

/** Value for `webhook-signature`: one signature per secret, so receivers on either side of a rotation verify. */
export function signatureHeader(secrets: readonly string[], msgId: string, timestampSec: number, body: string): string {
  if (secrets.length === 0) throw new Error('signatureHeader needs at least one secret');
  return secrets.map((secret) => sign(secret, msgId, timestampSec, body)).join(' ');
}

export type VerifyResult = { ok: true } | { ok: false; reason: string };

/**
 * Verifies a Standard Webhooks message. Any of the space-separated v1
 * signatures may match; the timestamp must be within ±toleranceSec of nowSec
 * (replay protection). Throws only for an invalid secret.
 */
export function verify(
  secret: string,
  headers: { id: string; timestamp: string; signature: string },
  body: string,
  nowSec: number,
  toleranceSec = DEFAULT_TOLERANCE_SEC,
): VerifyResult {
  const key = keyOrThrow(secret);
  if (!headers.id) return { ok: false, reason: 'missing webhook-id' };
  if (!headers.signature) return { ok: false, reason: 'missing webhook-signature' };
  if (!/^\d{1,15}$/.test(headers.timestamp ?? '')) {
    return { ok: false, reason: `invalid webhook-timestamp ${JSON.stringify(headers.timestamp ?? '')}` };
  }
  const ts = Number(headers.timestamp);
  if (nowSec - ts > toleranceSec) return { ok: false, reason: `timestamp too old (${nowSec - ts}s ago)` };
  if (ts - nowSec > toleranceSec) return { ok: false, reason: `timestamp too new (${ts - nowSec}s ahead)` };

  const expected = Buffer.from(digest(key, headers.id, ts, body), 'utf8');
  let sawV1 = false;
  for (const candidate of headers.signature.split(' ')) {
    const comma = candidate.indexOf(',');
    if (comma < 0 || candidate.slice(0, comma) !== 'v1') continue;
    sawV1 = true;
    const given = Buffer.from(candidate.slice(comma + 1), 'utf8');
    // Lengths are public (always 44 chars), so the length check leaks nothing.
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { ok: true };
  }
  return { ok: false, reason: sawV1 ? 'no matching signature' : 'no v1 signature' };
}
