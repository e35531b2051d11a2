/**
 * Receiver side: verifying a webhook from Tramline (the Standard Webhooks scheme).
 *
 *   webhook-id: msg_…                      the same on every retry: de-duplicate on it
 *   webhook-timestamp: 1764130000          unix seconds of this attempt
 *   webhook-signature: v1,<base64>[ v1,…]  HMAC-SHA256(secret, "<id>.<timestamp>.<body>"); several during a rotation
 *
 * The secret is the endpoint's `whsec_<base64>`. Uses WebCrypto (`globalThis.crypto.subtle`), present in
 * Node ≥ 20, Deno, Bun, edge runtimes and browsers, so it needs no import of node:crypto.
 * Verify the body exactly as received (the raw bytes or text), before any JSON parsing.
 */

export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyOptions {
  /** How far the timestamp may be from now, either way, in seconds (default 300). */
  toleranceSeconds?: number;
  /** The current time (for tests); default `Date.now()`. */
  now?: Date | number;
}

/** The body Tramline sends. */
export interface WebhookEvent<T = unknown> {
  type: string;
  timestamp: string;
  data: T;
}

export type WebhookVerificationReason = 'missing-header' | 'bad-secret' | 'bad-timestamp' | 'timestamp-too-old' | 'timestamp-too-new' | 'no-matching-signature' | 'bad-body';

export class WebhookVerificationError extends Error {
  override name = 'WebhookVerificationError';
  constructor(
    readonly reason: WebhookVerificationReason,
    message: string,
  ) {
    super(message);
  }
}

const encoder = new TextEncoder();

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const rec = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(rec).find((k) => k.toLowerCase() === name);
  const v = key === undefined ? undefined : rec[key];
  return Array.isArray(v) ? v.join(' ') : v;
}

function base64ToBytes(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]!);
  return btoa(bin);
}

/** Compares two byte strings in time that depends on their length only, never on where they differ. */
function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

function secretBytes(secret: string): Uint8Array {
  const b64 = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  try {
    const bytes = base64ToBytes(b64);
    if (bytes.length === 0) throw new Error('empty');
    return bytes;
  } catch {
    throw new WebhookVerificationError('bad-secret', 'The secret is not a whsec_<base64> signing secret');
  }
}

function bodyBytes(body: string | Uint8Array | ArrayBuffer): Uint8Array {
  if (typeof body === 'string') return encoder.encode(body);
  return body instanceof Uint8Array ? body : new Uint8Array(body);
}

async function hmac(secret: string, id: string, timestamp: string, body: Uint8Array): Promise<Uint8Array> {
  const prefix = encoder.encode(`${id}.${timestamp}.`);
  const signed = new Uint8Array(prefix.length + body.length);
  signed.set(prefix, 0);
  signed.set(body, prefix.length);
  const key = await globalThis.crypto.subtle.importKey('raw', secretBytes(secret) as Uint8Array<ArrayBuffer>, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', key, signed));
}

/**
 * The `webhook-signature` value for a message: `v1,<base64>`. For tests of a receiver, and for anyone
 * relaying webhooks; Tramline itself signs what it delivers.
 */
export async function signWebhook(secret: string, msg: { id: string; timestamp: number | Date; body: string | Uint8Array | ArrayBuffer }): Promise<string> {
  const ts = String(msg.timestamp instanceof Date ? Math.floor(msg.timestamp.getTime() / 1000) : msg.timestamp);
  return `v1,${bytesToBase64(await hmac(secret, msg.id, ts, bodyBytes(msg.body)))}`;
}

/**
 * Checks a delivery's signature and timestamp, then returns its parsed body. Throws a
 * WebhookVerificationError (with a `reason`) when it is not a genuine, fresh Tramline webhook.
 * Several secrets (during a rotation) may be passed as an array: any one that matches is enough.
 */
export async function verifyWebhook<T = unknown>(
  secret: string | string[],
  headers: WebhookHeaders,
  body: string | Uint8Array | ArrayBuffer,
  options: VerifyOptions = {},
): Promise<WebhookEvent<T>> {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signature = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signature) {
    throw new WebhookVerificationError('missing-header', 'The webhook-id, webhook-timestamp and webhook-signature headers are required');
  }
  if (!/^\d{1,12}$/.test(timestamp)) throw new WebhookVerificationError('bad-timestamp', 'webhook-timestamp is not a unix time in seconds');
  const tolerance = options.toleranceSeconds ?? 300;
  const nowMs = options.now instanceof Date ? options.now.getTime() : (options.now ?? Date.now());
  const age = Math.floor(nowMs / 1000) - Number(timestamp);
  if (age > tolerance) throw new WebhookVerificationError('timestamp-too-old', `The webhook is ${age} s old (tolerance ${tolerance} s)`);
  if (age < -tolerance) throw new WebhookVerificationError('timestamp-too-new', `The webhook's timestamp is ${-age} s in the future (tolerance ${tolerance} s)`);

  const raw = bodyBytes(body);
  const given: Uint8Array[] = [];
  for (const part of signature.split(' ')) {
    const [version, sig] = part.split(',', 2);
    if (version !== 'v1' || !sig) continue;
    try {
      given.push(base64ToBytes(sig));
    } catch {
      /* not base64: it cannot match */
    }
  }
  let ok = false;
  for (const s of Array.isArray(secret) ? secret : [secret]) {
    const expected = await hmac(s, id, timestamp, raw);
    // Every candidate is compared (no early exit), each in constant time.
    for (const g of given) ok = timingSafeEqual(expected, g) || ok;
  }
  if (!ok) throw new WebhookVerificationError('no-matching-signature', 'No v1 signature matches this secret');
  try {
    return JSON.parse(new TextDecoder().decode(raw)) as WebhookEvent<T>;
  } catch {
    throw new WebhookVerificationError('bad-body', 'The signed body is not JSON');
  }
}
