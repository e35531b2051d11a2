import type { ErrorEvent } from '@sentry/node';
import { describe, expect, it } from 'vitest';
import { scrubEvent } from './sentry.ts';

describe('scrubEvent', () => {
  it('drops bodies, cookies, credentials and query strings, and keeps what locates the error', () => {
    const event = {
      type: undefined,
      message: 'failed for Bearer tl_live_abcdef',
      exception: { values: [{ type: 'Error', value: 'key tl_abc_123 and secret whsec_AAAA/BBB= and portal tlp_x.y.z rejected' }] },
      request: {
        method: 'POST',
        url: 'https://gw.example/v1/consumers/c/messages?token=q-secret',
        data: '{"card":"4111"}',
        cookies: { session: 'c-secret' },
        query_string: 'token=q-secret',
        headers: { authorization: 'Bearer tl_h', cookie: 'session=c-secret', 'x-api-key': 'k', 'user-agent': 'curl/8' },
      },
      user: { ip_address: '203.0.113.9' },
      breadcrumbs: [{ message: 'sent Bearer tl_crumb', data: { body: 'x' } }],
      tags: { route: '/v1/consumers/:consumer/messages' },
    } as unknown as ErrorEvent;
    const out = scrubEvent(event);
    const text = JSON.stringify(out);
    for (const s of [
      'tl_live_abcdef',
      'tl_abc_123',
      'whsec_AAAA',
      'tlp_x.y.z',
      'q-secret',
      '4111',
      'c-secret',
      'tl_h',
      '203.0.113.9',
      'tl_crumb',
      '"body"',
    ])
      expect(text, s).not.toContain(s);
    expect(out.request).toEqual({ method: 'POST', url: 'https://gw.example/v1/consumers/c/messages', headers: { 'user-agent': 'curl/8' } });
    expect(out.exception!.values![0]!.value).toBe('key [redacted] and secret [redacted] and portal [redacted] rejected');
    expect(out.tags).toEqual({ route: '/v1/consumers/:consumer/messages' });
  });
});
