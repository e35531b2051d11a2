import { signatureHeader } from './signing.ts';

/**
 * The request a receiver gets, in the Standard Webhooks format. The body is assembled from the
 * stored payload text without parsing it again: it was validated once, at publish.
 */
export interface WebhookInput {
  messageId: string;
  eventType: string;
  payload: string;
  messageCreatedAt: Date;
  secrets: readonly string[];
  customHeaders: Record<string, string>;
  nowMs: number;
}

export function buildWebhook(w: WebhookInput): { headers: Record<string, string>; body: string } {
  const body = `{"type":${JSON.stringify(w.eventType)},"timestamp":"${w.messageCreatedAt.toISOString()}","data":${w.payload}}`;
  const timestamp = Math.floor(w.nowMs / 1000);
  return {
    body,
    headers: {
      ...w.customHeaders,
      // Ours last, so a custom header can never override them.
      'content-type': 'application/json',
      'user-agent': 'Tramline-Webhooks/0.1',
      'webhook-id': w.messageId,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signatureHeader(w.secrets, w.messageId, timestamp, body),
    },
  };
}

/** The current secret, plus the previous one while its grace period lasts. */
export function signingSecrets(secret: string, previous: string | null, previousExpiresAt: Date | null, nowMs: number): string[] {
  return previous && previousExpiresAt && previousExpiresAt.getTime() > nowMs ? [secret, previous] : [secret];
}
