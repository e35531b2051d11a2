import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { buildWebhook, signingSecrets } from './webhook.ts';
import { generateSecret } from './signing.ts';

describe('buildWebhook', () => {
  it('builds a Standard Webhooks request from the stored payload text', () => {
    const secret = generateSecret();
    const now = Date.UTC(2026, 10, 26, 10, 0, 0);
    const { headers, body } = buildWebhook({
      messageId: 'msg_1',
      eventType: 'invoice."paid"',
      payload: '{"a":[1,2],"s":"\\u0001"}',
      messageCreatedAt: new Date(now - 5000),
      secrets: [secret],
      customHeaders: { 'x-a': 'b', 'webhook-id': 'forged' },
      nowMs: now,
    });
    expect(JSON.parse(body)).toEqual({ type: 'invoice."paid"', timestamp: '2026-11-26T09:59:55.000Z', data: { a: [1, 2], s: '\u0001' } });
    expect(headers['webhook-id']).toBe('msg_1'); // a custom header cannot override ours
    expect(headers['webhook-timestamp']).toBe(String(now / 1000));
    expect(headers['x-a']).toBe('b');
    const wh = new Webhook(secret);
    // standardwebhooks checks the timestamp against the real clock, so re-sign for now.
    const live = buildWebhook({
      messageId: 'msg_1',
      eventType: 't',
      payload: '{}',
      messageCreatedAt: new Date(),
      secrets: [secret],
      customHeaders: {},
      nowMs: Date.now(),
    });
    expect(wh.verify(live.body, live.headers)).toEqual({ type: 't', timestamp: expect.any(String), data: {} });
  });

  it('signs with the previous secret only during its grace period', () => {
    const now = 1_000_000;
    expect(signingSecrets('a', 'b', new Date(now + 1), now)).toEqual(['a', 'b']);
    expect(signingSecrets('a', 'b', new Date(now - 1), now)).toEqual(['a']);
    expect(signingSecrets('a', null, null, now)).toEqual(['a']);
  });
});
