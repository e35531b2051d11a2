import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook, WebhookVerificationError } from '../src/index.ts';

/** verifyWebhook against the standardwebhooks library (an independent implementation), both ways. */
const secret = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
const body = JSON.stringify({ type: 'invoice.paid', timestamp: '2026-11-26T10:00:00.000Z', data: { invoice: 'inv_1', note: 'café ✓' } });
const now = new Date('2026-11-26T10:00:00Z');
const ts = Math.floor(now.getTime() / 1000);
const headersFor = (signature: string, t = ts) => ({ 'webhook-id': 'msg_1', 'webhook-timestamp': String(t), 'webhook-signature': signature });

describe('verifyWebhook', () => {
  it('accepts what standardwebhooks signs, as text, bytes, Headers or Node-style headers', async () => {
    const sig = new Webhook(secret).sign('msg_1', now, body);
    await expect(verifyWebhook(secret, headersFor(sig), body, { now })).resolves.toMatchObject({ type: 'invoice.paid', data: { invoice: 'inv_1' } });
    await expect(verifyWebhook(secret, new Headers(headersFor(sig)), new TextEncoder().encode(body), { now })).resolves.toBeTruthy();
    const nodeStyle = { 'Webhook-Id': 'msg_1', 'webhook-timestamp': String(ts), 'webhook-signature': [sig] };
    await expect(verifyWebhook(secret, nodeStyle, Buffer.from(body), { now })).resolves.toBeTruthy();
  });

  it('signs what standardwebhooks verifies', async () => {
    const sig = await signWebhook(secret, { id: 'msg_1', timestamp: ts, body });
    expect(sig).toBe(new Webhook(secret).sign('msg_1', now, body));
    // standardwebhooks checks the timestamp against the real clock: sign for now.
    const t = Math.floor(Date.now() / 1000);
    const fresh = await signWebhook(secret, { id: 'msg_1', timestamp: t, body });
    expect(new Webhook(secret).verify(body, headersFor(fresh, t))).toMatchObject({ type: 'invoice.paid' });
  });

  it('accepts any one of several signatures and any one of several secrets (rotation)', async () => {
    const other = `whsec_${Buffer.alloc(24, 9).toString('base64')}`;
    const sig = await signWebhook(secret, { id: 'msg_1', timestamp: ts, body });
    const otherSig = await signWebhook(other, { id: 'msg_1', timestamp: ts, body });
    await expect(verifyWebhook(secret, headersFor(`${otherSig} ${sig}`), body, { now })).resolves.toBeTruthy();
    await expect(verifyWebhook([other, secret], headersFor(sig), body, { now })).resolves.toBeTruthy();
  });

  it('refuses a changed body, id or timestamp, another secret, a stale or future timestamp, missing headers', async () => {
    const sig = await signWebhook(secret, { id: 'msg_1', timestamp: ts, body });
    const reason = (p: Promise<unknown>) => p.then(() => 'accepted', (e: unknown) => (e instanceof WebhookVerificationError ? e.reason : String(e)));
    expect(await reason(verifyWebhook(secret, headersFor(sig), body.replace('inv_1', 'inv_2'), { now }))).toBe('no-matching-signature');
    expect(await reason(verifyWebhook(secret, { ...headersFor(sig), 'webhook-id': 'msg_2' }, body, { now }))).toBe('no-matching-signature');
    expect(await reason(verifyWebhook(`whsec_${Buffer.alloc(24, 8).toString('base64')}`, headersFor(sig), body, { now }))).toBe('no-matching-signature');
    expect(await reason(verifyWebhook(secret, headersFor(sig.replace('v1,', 'v2,')), body, { now }))).toBe('no-matching-signature');
    expect(await reason(verifyWebhook(secret, headersFor('v1,not base64!'), body, { now }))).toBe('no-matching-signature');
    expect(await reason(verifyWebhook(secret, headersFor(sig), body, { now: now.getTime() + 301_000 }))).toBe('timestamp-too-old');
    expect(await reason(verifyWebhook(secret, headersFor(sig), body, { now: now.getTime() + 20_000, toleranceSeconds: 10 }))).toBe('timestamp-too-old');
    expect(await reason(verifyWebhook(secret, headersFor(sig), body, { now: now.getTime() - 301_000 }))).toBe('timestamp-too-new');
    expect(await reason(verifyWebhook(secret, headersFor(sig, Number.NaN), body, { now }))).toBe('bad-timestamp');
    expect(await reason(verifyWebhook(secret, { 'webhook-id': 'msg_1' }, body, { now }))).toBe('missing-header');
    expect(await reason(verifyWebhook('whsec_', headersFor(sig), body, { now }))).toBe('bad-secret');
  });
});
