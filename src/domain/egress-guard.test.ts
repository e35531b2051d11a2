import { describe, it, expect } from 'vitest';
import { checkEndpointUrl, isAddressAllowed, parseCidrList, parseHostLiteral } from './egress-guard.ts';

const none = parseCidrList(undefined);

describe('isAddressAllowed', () => {
  const refused = [
    // IPv4
    '0.0.0.0',
    '0.1.2.3',
    '127.0.0.1',
    '127.255.255.254',
    '10.0.0.1',
    '10.255.255.255',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.0.1',
    '169.254.169.254',
    '100.64.0.1',
    '100.127.255.255',
    '224.0.0.1',
    '239.255.255.250',
    '255.255.255.255',
    '240.0.0.1',
    '192.0.2.1',
    '198.51.100.7',
    '203.0.113.9',
    '198.18.0.1',
    '198.19.255.255',
    '192.0.0.8',
    '192.0.0.170',
    // IPv6
    '::',
    '::1',
    'fe80::1',
    'febf::1',
    'fc00::1',
    'fd12:3456::1',
    'ff02::1',
    'ff05::1:3',
    '2001:db8::1',
    '2001:2::1',
    '2002:c000:0204::1',
    '64:ff9b::7f00:1',
    '64:ff9b:1::1',
    '2001::1',
    '2001:0:4136:e378::1',
    'fec0::1',
    '100::1',
    '4000::1',
    // IPv4-mapped / compatible forms fold to IPv4
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '::ffff:169.254.169.254',
    '0:0:0:0:0:ffff:c0a8:0101',
    '::127.0.0.1',
    '::ffff:0.0.0.0',
    // non-canonical IPv4 literals are still classified
    '127.1',
    '0x7f000001',
    '2130706433',
    '0177.0.0.1',
    '0',
    // unparseable
    '',
    'example.com',
    'not-an-ip',
    '1.2.3.4.5',
    '300.1.1.1',
    ':::1',
  ];
  const allowed = [
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '172.15.255.255',
    '172.32.0.1',
    '100.63.255.255',
    '100.128.0.1',
    '169.253.0.1',
    '198.17.255.255',
    '198.20.0.1',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '2a00:1450::1',
    '::ffff:8.8.8.8',
    '::ffff:808:808',
    '[2606:4700:4700::1111]',
  ];

  it.each(refused)('refuses %s', (addr) => {
    const r = isAddressAllowed(addr, none);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/./);
  });
  it.each(allowed)('allows %s', (addr) => {
    expect(isAddressAllowed(addr, none)).toEqual({ ok: true });
  });

  it('names the range in the reason', () => {
    expect(isAddressAllowed('169.254.169.254', none)).toEqual({ ok: false, reason: 'address 169.254.169.254 is link-local' });
    expect(isAddressAllowed('::ffff:127.0.0.1', none)).toEqual({ ok: false, reason: 'address 127.0.0.1 is loopback' });
  });

  it('allowlist overrides refusals, per family', () => {
    const allow = parseCidrList('127.0.0.0/8,::1/128,10.1.0.0/16');
    for (const a of ['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1', '10.1.2.3', '0x7f000001']) {
      expect(isAddressAllowed(a, allow)).toEqual({ ok: true });
    }
    for (const a of ['10.2.0.1', '192.168.0.1', '::2', 'fe80::1', '169.254.169.254']) {
      expect(isAddressAllowed(a, allow).ok).toBe(false);
    }
  });

  it('IPv6-only allowlist does not admit IPv4 loopback', () => {
    expect(isAddressAllowed('127.0.0.1', parseCidrList('::1/128')).ok).toBe(false);
  });
});

describe('parseCidrList', () => {
  it('parses lists, bare hosts and whitespace', () => {
    const l = parseCidrList(' 127.0.0.0/8 , ::1/128,10.0.0.5 ,');
    expect(l.map(([ip, bits]) => `${ip.toString()}/${bits}`)).toEqual(['127.0.0.0/8', '::1/128', '10.0.0.5/32']);
  });
  it('treats empty / undefined as an empty list', () => {
    expect(parseCidrList('')).toEqual([]);
    expect(parseCidrList(undefined)).toEqual([]);
  });
  it.each(['127.0.0.0/33', '::1/129', 'foo/8', '127.1/8', '1.2.3.4/8/1', '1.2.3.4/', '1.2.3.4/x', 'fe80::1%eth0/64'])(
    'rejects %s naming the entry',
    (entry) => {
      expect(() => parseCidrList(`127.0.0.0/8,${entry}`)).toThrow(`"${entry}"`);
    },
  );
});

describe('parseHostLiteral', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['127.0.1', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['0x7f.0.0.1', '127.0.0.1'],
    ['0x7f000001', '127.0.0.1'],
    ['0X7F000001', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['017700000001', '127.0.0.1'],
    ['127.0.0.1.', '127.0.0.1'],
    ['%31%32%37.0.0.1', '127.0.0.1'],
    ['\uff11\uff12\uff17.0.0.1', '127.0.0.1'], // fullwidth digits, IDNA-mapped
    ['0', '0.0.0.0'],
    ['0.0.0.0', '0.0.0.0'],
    ['3232235777', '192.168.1.1'],
    ['[::ffff:7f00:1]', '::ffff:7f00:1'],
    ['[::ffff:127.0.0.1]', '::ffff:7f00:1'],
    ['::ffff:127.0.0.1', '::ffff:7f00:1'],
    ['[::]', '::'],
    ['::', '::'],
    ['[::1]', '::1'],
    ['[0:0:0:0:0:0:0:1]', '::1'],
    ['[2001:DB8::1]', '2001:db8::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['[fe80::1%25eth0]', 'fe80::1'],
  ])('%s → %s', (host, want) => {
    expect(parseHostLiteral(host)).toBe(want);
  });

  it.each([
    '',
    'example.com',
    'localhost',
    '1.2.3.4.5',
    '08.0.0.1',
    '256.0.0.1',
    '127.0.0.1:80',
    'a@127.0.0.1',
    '127.0.0.1/x',
    '[example.com]',
    '[::1',
    'xn--nxasmq6b',
    '1.2.3.4.example',
  ])('%s → null', (host) => {
    expect(parseHostLiteral(host)).toBeNull();
  });

  it('agrees with URL hostnames for every encoding', () => {
    for (const h of ['127.1', '0177.0.0.1', '0x7f000001', '2130706433', '017700000001', '[::ffff:7f00:1]', '0', '[::]']) {
      const hostname = new URL(`http://${h}/`).hostname;
      expect(parseHostLiteral(hostname), h).toBe(parseHostLiteral(h));
    }
  });
});

describe('checkEndpointUrl', () => {
  const refuse = (url: string, allow = none) => {
    const r = checkEndpointUrl(url, allow);
    return r.ok ? null : r;
  };

  it('accepts public http(s) URLs and DNS names (resolved at dial time)', () => {
    const r = checkEndpointUrl('https://hooks.example.com:8443/in?x=1', none);
    expect(r.ok && r.url.host).toBe('hooks.example.com:8443');
    expect(checkEndpointUrl('http://8.8.8.8/', none).ok).toBe(true);
    expect(checkEndpointUrl('http://[2606:4700:4700::1111]/', none).ok).toBe(true);
  });

  it.each([
    'ftp://example.com/',
    'file:///etc/passwd',
    'gopher://example.com/',
    'javascript:alert(1)',
    'ws://example.com/',
    'not a url',
    '',
  ])('rejects %s as invalid_url', (url) => {
    expect(refuse(url)?.code).toBe('invalid_url');
  });

  it('rejects credentials', () => {
    expect(refuse('https://user:pass@example.com/')).toMatchObject({ code: 'invalid_url', reason: expect.stringMatching(/credentials/) });
    expect(refuse('https://user@example.com/')?.code).toBe('invalid_url');
    expect(refuse('https://:pass@example.com/')?.code).toBe('invalid_url');
  });

  it.each(['http://localhost/', 'http://localhost./', 'http://LOCALHOST:8080/', 'http://api.localhost/', 'http://a.b.localhost./'])(
    'treats %s as loopback',
    (url) => {
      expect(refuse(url)?.code).toBe('egress_refused');
      expect(checkEndpointUrl(url, parseCidrList('127.0.0.0/8')).ok).toBe(true);
    },
  );

  it('does not treat look-alikes as localhost', () => {
    expect(checkEndpointUrl('http://localhost.example.com/', none).ok).toBe(true);
    expect(checkEndpointUrl('http://notlocalhost/', none).ok).toBe(true);
  });

  it.each([
    'http://127.0.0.1/',
    'http://127.1/',
    'http://0177.0.0.1/',
    'http://0x7f000001/',
    'http://2130706433/',
    'http://017700000001/',
    'http://0/',
    'http://0.0.0.0/',
    'http://[::]/',
    'http://[::1]/',
    'http://[::ffff:7f00:1]/',
    'http://[::ffff:169.254.169.254]/',
    'https://169.254.169.254/latest/meta-data/',
    'http://10.0.0.1:8080/',
    'http://[fd00::1]/',
    'http://[fe80::1]/',
    'http://192.168.0.1./',
    'http://%31%32%37.0.0.1/',
  ])('refuses literal %s', (url) => {
    expect(refuse(url)?.code).toBe('egress_refused');
  });

  it('allowlist admits literal loopback', () => {
    const allow = parseCidrList('127.0.0.0/8,::1/128');
    for (const url of ['http://127.0.0.1:3000/', 'http://127.1/', 'http://[::1]/', 'http://[::ffff:127.0.0.1]/']) {
      expect(checkEndpointUrl(url, allow).ok).toBe(true);
    }
    expect(refuse('http://10.0.0.1/', allow)?.code).toBe('egress_refused');
  });
});
