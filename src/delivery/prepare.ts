import { buildWebhook, signingSecrets } from '../domain/webhook.ts';
import { openHeaders, secretAad, type TenantCipher } from '../domain/secrets/tenant-cipher.ts';
import type { ClaimedDelivery } from '../store/queue.ts';

/** Stage 1 of a delivery: the request to send, signed for this attempt. */
export interface Prepared {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** When this attempt started (its `webhook-timestamp` and the attempt's `startedAt`). */
  nowMs: number;
}

/**
 * Opens the endpoint's secrets (both during a rotation) and its sealed custom headers, and builds the
 * Standard Webhooks request: the same `webhook-id` on every attempt, a fresh timestamp and signature.
 */
export async function prepare(d: ClaimedDelivery, cipher: TenantCipher, nowMs: number): Promise<Prepared> {
  const aad = secretAad(d.endpointId);
  const secret = await cipher.open(d.tenantId, d.secret, aad);
  const previous = d.previousSecret === null ? null : await cipher.open(d.tenantId, d.previousSecret, aad);
  const { headers, body } = buildWebhook({
    messageId: d.messageId,
    eventType: d.eventType,
    payload: d.payload,
    messageCreatedAt: d.messageCreatedAt,
    secrets: signingSecrets(secret, previous, d.previousSecretExpiresAt, nowMs),
    customHeaders: await openHeaders(cipher, d.tenantId, d.endpointId, d.headers),
    nowMs,
  });
  return { url: d.url, headers, body, nowMs };
}
