import { describe, it, expect } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { generateSecret, isValidSecret, sign, signatureHeader, verify } from './signing.ts';

const nowSec = () => Math.floor(Date.now() / 1000);
const body = JSON.stringify({ type: 'invoice.paid', data: { id: 'inv_1', amount: 4200, note: 'héllo ✓' } });

// Known vector from the Standard Webhooks reference libraries.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  ts: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

describe('generateSecret / isValidSecret', () => {
  it('generates whsec_ + base64 of 24 bytes', () => {
    const secret = generateSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(24);
    expect(isValidSecret(secret)).toBe(true);
    expect(generateSecret()).not.toBe(secret);
  });

  it.each([
    ['whsec_' + Buffer.alloc(24, 1).toString('base64'), true],
    ['whsec_' + Buffer.alloc(64, 1).toString('base64'), true],
    ['whsec_' + Buffer.alloc(23, 1).toString('base64'), false],
    ['whsec_' + Buffer.alloc(65, 1).toString('base64'), false],
    [Buffer.alloc(24, 1).toString('base64'), false], // no prefix
    ['whsec_', false],
    ['whsec_not base64 at all, sorry!!!!!', false],
    ['whsec_' + Buffer.alloc(24, 1).toString('base64').slice(0, -1), false], // truncated
  ])('isValidSecret(%j) = %s', (secret, valid) => {
    expect(isValidSecret(secret)).toBe(valid);
  });
});

describe('sign', () => {
  it('matches the reference test vector', () => {
    expect(sign(VECTOR.secret, VECTOR.id, VECTOR.ts, VECTOR.body)).toBe(VECTOR.signature);
  });

  it('is accepted by the independent standardwebhooks verifier (with and without prefix)', () => {
    const secret = generateSecret();
    const ts = nowSec();
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(ts), 'webhook-signature': sign(secret, 'msg_1', ts, body) };
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    expect(new Webhook(secret.slice('whsec_'.length)).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it('agrees with standardwebhooks sign()', () => {
    const secret = generateSecret();
    const ts = nowSec();
    expect(sign(secret, 'msg_2', ts, body)).toBe(new Webhook(secret).sign('msg_2', new Date(ts * 1000), body));
  });

  it('rejects an invalid secret or timestamp', () => {
    expect(() => sign('nope', 'msg', 1, body)).toThrow(/Invalid webhook secret/);
    expect(() => sign(generateSecret(), 'msg', 1.5, body)).toThrow(/timestamp/);
  });
});

describe('signatureHeader', () => {
  it('holds one v1 signature per secret; each secret verifies independently', () => {
    const [oldSecret, newSecret] = [generateSecret(), generateSecret()];
    const ts = nowSec();
    const header = signatureHeader([oldSecret, newSecret], 'msg_rot', ts, body);
    expect(header.split(' ')).toHaveLength(2);
    expect(header.split(' ').every((s) => s.startsWith('v1,'))).toBe(true);
    const headers = { 'webhook-id': 'msg_rot', 'webhook-timestamp': String(ts), 'webhook-signature': header };
    for (const secret of [oldSecret, newSecret]) {
      expect(() => new Webhook(secret).verify(body, headers)).not.toThrow();
      expect(verify(secret, { id: 'msg_rot', timestamp: String(ts), signature: header }, body, ts)).toEqual({ ok: true });
    }
    expect(() => new Webhook(generateSecret()).verify(body, headers)).toThrow();
  });

  it('needs at least one secret', () => {
    expect(() => signatureHeader([], 'msg', 1, body)).toThrow();
  });
});

describe('verify', () => {
  const secret = generateSecret();
  const ts = 1_700_000_000;
  const good = { id: 'msg_v', timestamp: String(ts), signature: sign(secret, 'msg_v', ts, body) };

  it('accepts a genuine message', () => {
    expect(verify(secret, good, body, ts)).toEqual({ ok: true });
  });

  it('accepts the reference vector', () => {
    const headers = { id: VECTOR.id, timestamp: String(VECTOR.ts), signature: VECTOR.signature };
    expect(verify(VECTOR.secret, headers, VECTOR.body, VECTOR.ts)).toEqual({ ok: true });
  });

  it('accepts when any of several signatures matches, skipping other versions', () => {
    const signature = `v2,abc v1,${Buffer.alloc(32).toString('base64')} ${good.signature}`;
    expect(verify(secret, { ...good, signature }, body, ts)).toEqual({ ok: true });
  });

  it.each([
    ['tampered body', good, body.replace('4200', '4201'), ts],
    ['tampered timestamp', { ...good, timestamp: String(ts + 1) }, body, ts],
    ['tampered id', { ...good, id: 'msg_w' }, body, ts],
    ['wrong secret', { ...good, signature: sign(generateSecret(), 'msg_v', ts, body) }, body, ts],
    ['truncated signature', { ...good, signature: good.signature.slice(0, -2) }, body, ts],
  ])('rejects a %s', (_name, headers, payload, now) => {
    const result = verify(secret, headers, payload, now);
    expect(result).toEqual({ ok: false, reason: 'no matching signature' });
  });

  it.each([
    ['too old', ts + 301, /too old/],
    ['too new', ts - 301, /too new/],
  ])('rejects a timestamp %s', (_name, now, reason) => {
    const result = verify(secret, good, body, now);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(reason);
  });

  it('accepts timestamps at the tolerance edge and honours a custom tolerance', () => {
    expect(verify(secret, good, body, ts + 300)).toEqual({ ok: true });
    expect(verify(secret, good, body, ts - 300)).toEqual({ ok: true });
    expect(verify(secret, good, body, ts + 10, 5).ok).toBe(false);
  });

  it.each([
    [{ ...good, id: '' }, /missing webhook-id/],
    [{ ...good, signature: '' }, /missing webhook-signature/],
    [{ ...good, timestamp: 'soon' }, /invalid webhook-timestamp/],
    [{ ...good, timestamp: '-5' }, /invalid webhook-timestamp/],
    [{ ...good, signature: 'v2,abc' }, /no v1 signature/],
  ])('reports malformed headers %#', (headers, reason) => {
    const result = verify(secret, headers, body, ts);
    expect(!result.ok && result.reason).toMatch(reason);
  });

  it('throws for an invalid secret (a configuration error)', () => {
    expect(() => verify('whsec_short', good, body, ts)).toThrow(/Invalid webhook secret/);
  });
});
