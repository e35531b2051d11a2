import { describe, expect, it } from 'vitest';
import { parseHostPort, parseHttpUrl } from './options.ts';

describe('probe options', () => {
  it('parses host:port, :port and [v6]:port', () => {
    expect(parseHostPort('127.0.0.1:8081')).toEqual({ host: '127.0.0.1', port: 8081 });
    expect(parseHostPort(':9465')).toEqual({ host: '0.0.0.0', port: 9465 });
    expect(parseHostPort('[::]:0')).toEqual({ host: '::', port: 0 });
    expect(parseHostPort('probe.svc:80')).toEqual({ host: 'probe.svc', port: 80 });
    for (const bad of ['8081', 'host:', 'host:70000', '::1:80', 'a:b']) expect(() => parseHostPort(bad), bad).toThrow(/expected host:port/);
  });

  it('accepts http(s) URLs only, without a trailing slash', () => {
    expect(parseHttpUrl('https://gw.example.com/')).toBe('https://gw.example.com');
    expect(() => parseHttpUrl('ftp://x')).toThrow(/http/);
    expect(() => parseHttpUrl('gw.example.com')).toThrow(/http/);
  });
});
