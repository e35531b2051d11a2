import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

function capture(): { lines: () => Array<Record<string, unknown>>; raw: string[]; stream: Writable } {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l !== '') raw.push(l);
      done();
    },
  });
  return { raw, stream, lines: () => raw.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('logger', () => {
  it('writes one JSON object per line, with an ISO time, a level label and stable field types', () => {
    const c = capture();
    const log = createLogger('debug', 'tramline', c.stream);
    const req = log.child({ reqId: 'req-1' }).child({ tenantId: 'ten_1' });
    req.info({ method: 'POST', url: '/v1/consumers/:consumer/messages', status: 202, ms: 3 }, 'request');
    log.child({ role: 'worker' }).debug(
      {
        tenantId: 'ten_1',
        consumerId: 'con_1',
        endpointId: 'ep_1',
        messageId: 'msg_1',
        deliveryId: 'dlv_1',
        attempt: 1,
        state: 'succeeded',
        status: 200,
        durationMs: 12,
      },
      'delivery attempt',
    );
    log.error({ err: new Error('boom') }, 'unhandled error');
    log.error({ err: 'not an error object' }, 'odd caller');

    const lines = c.lines();
    expect(lines).toHaveLength(4);
    for (const l of lines) {
      expect(typeof l.time).toBe('string');
      expect(new Date(l.time as string).toISOString()).toBe(l.time);
      expect(['debug', 'info', 'warn', 'error']).toContain(l.level);
      expect(typeof l.msg).toBe('string');
      expect(l.name).toBe('tramline');
      expect(typeof l.pid).toBe('number');
      expect(typeof l.hostname).toBe('string');
    }
    expect(lines[0]).toMatchObject({
      level: 'info',
      reqId: 'req-1',
      tenantId: 'ten_1',
      status: 202,
      url: '/v1/consumers/:consumer/messages',
    });
    const attempt = lines[1]!;
    for (const k of ['tenantId', 'consumerId', 'endpointId', 'messageId', 'deliveryId', 'role', 'state'])
      expect(typeof attempt[k], k).toBe('string');
    for (const k of ['attempt', 'status', 'durationMs']) expect(typeof attempt[k], k).toBe('number');
    // `err` is always an object (type, message, stack), whatever the caller passed.
    expect(lines[2]!.err).toMatchObject({ type: 'Error', message: 'boom' });
    expect(typeof (lines[2]!.err as { stack: unknown }).stack).toBe('string');
    expect(typeof lines[3]!.err).toBe('object');
  });

  it('redacts credentials in headers and in named fields', () => {
    const c = capture();
    const log = createLogger('info', 'tramline', c.stream);
    log.info(
      {
        req: {
          headers: { authorization: 'Bearer tl_live_abc', cookie: 'session=s3cr3t', 'x-api-key': 'tl_x', accept: 'application/json' },
        },
        headers: { authorization: 'Bearer tl_hdr', 'set-cookie': 'a=b' },
        response: { headers: { authorization: 'Bearer tl_nested' } },
        secret: 'whsec_top',
        endpoint: { secret: 'whsec_nested', previousSecret: 'whsec_prev' },
        apiKey: 'tl_key',
        portal: { token: 'tlp_portal' },
        operatorToken: 'op-token-0123456789',
      },
      'with secrets',
    );
    const text = c.raw.join('\n');
    for (const s of [
      'tl_live_abc',
      's3cr3t',
      'tl_x',
      'tl_hdr',
      'a=b',
      'tl_nested',
      'whsec_top',
      'whsec_nested',
      'whsec_prev',
      'tl_key',
      'tlp_portal',
      'op-token-0123456789',
    ]) {
      expect(text, s).not.toContain(s);
    }
    const l = c.lines()[0]! as { req: { headers: Record<string, string> } };
    expect(l.req.headers.accept).toBe('application/json');
    expect(l.req.headers.authorization).toBe('[redacted]');
  });
});
