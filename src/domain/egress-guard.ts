// Egress guard: decides which addresses webhook delivery may connect to.
// Pure functions only (no DNS, no sockets) so they can be tested as a table
// and reused both when an endpoint is saved and at dial time.
import ipaddr from 'ipaddr.js';

type IP = ipaddr.IPv4 | ipaddr.IPv6;

/** Operator-supplied CIDRs that are permitted even if otherwise refused. */
export type CidrList = ReadonlyArray<[IP, number]>;

export type GuardResult = { ok: true } | { ok: false; reason: string };

/**
 * Parse `127.0.0.0/8,::1/128`. A bare address means a single host.
 * Empty/undefined → empty list (refuse everything non-public).
 */
export function parseCidrList(text: string | undefined): CidrList {
  const out: Array<[IP, number]> = [];
  for (const raw of (text ?? '').split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    try {
      const parts = entry.split('/');
      if (parts.length > 2) throw new Error('too many "/"');
      const [addr, bits] = parts as [string, string | undefined];
      // Strict forms only: an allowlist is security config, `127.1/8` is
      // more likely a typo than intent.
      const ip = parseStrict(addr);
      if (!ip) throw new Error('not an IP address');
      const max = ip.kind() === 'ipv4' ? 32 : 128;
      if (bits !== undefined && !/^\d{1,3}$/.test(bits)) throw new Error(`prefix must be 0..${max}`);
      const prefix = bits === undefined ? max : Number(bits);
      if (prefix > max) throw new Error(`prefix must be 0..${max}`);
      out.push([ip, prefix]);
    } catch (err) {
      throw new Error(`invalid CIDR entry "${entry}": ${(err as Error).message}`);
    }
  }
  return out;
}

function parseStrict(s: string): IP | null {
  if (ipaddr.IPv4.isValidFourPartDecimal(s)) return ipaddr.IPv4.parse(s);
  if (ipaddr.IPv6.isValid(s) && !s.includes('%')) return ipaddr.IPv6.parse(s);
  return null;
}

// Explicit deny lists: defence in depth in case ipaddr.js range() names
// change between versions, and for ranges older versions classify as unicast.
const cidr = (s: string): [IP, number] => ipaddr.parseCIDR(s);
const DENY_V4: ReadonlyArray<[string, [IP, number]]> = [
  ['unspecified', cidr('0.0.0.0/8')],
  ['private', cidr('10.0.0.0/8')],
  ['carrier-grade NAT', cidr('100.64.0.0/10')],
  ['loopback', cidr('127.0.0.0/8')],
  ['link-local', cidr('169.254.0.0/16')],
  ['private', cidr('172.16.0.0/12')],
  ['IETF protocol assignments', cidr('192.0.0.0/24')],
  ['documentation', cidr('192.0.2.0/24')],
  ['private', cidr('192.168.0.0/16')],
  ['benchmarking', cidr('198.18.0.0/15')],
  ['documentation', cidr('198.51.100.0/24')],
  ['documentation', cidr('203.0.113.0/24')],
  ['multicast', cidr('224.0.0.0/4')],
  ['broadcast', cidr('255.255.255.255/32')],
  ['reserved', cidr('240.0.0.0/4')],
];
const DENY_V6: ReadonlyArray<[string, [IP, number]]> = [
  ['unspecified', cidr('::/128')],
  ['loopback', cidr('::1/128')],
  ['NAT64', cidr('64:ff9b::/96')],
  ['NAT64', cidr('64:ff9b:1::/48')],
  ['discard', cidr('100::/64')],
  ['Teredo', cidr('2001::/32')],
  ['benchmarking', cidr('2001:2::/48')],
  ['documentation', cidr('2001:db8::/32')],
  ['6to4', cidr('2002::/16')],
  ['unique local', cidr('fc00::/7')],
  ['link-local', cidr('fe80::/10')],
  ['site-local', cidr('fec0::/10')],
  ['multicast', cidr('ff00::/8')],
];
// Only 2000::/3 is allocated for global unicast; anything else is reserved.
const GLOBAL_V6 = cidr('2000::/3');
const V4_COMPAT = cidr('::/96');

function inList(ip: IP, list: CidrList): boolean {
  return list.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits));
}

/** Fold IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) to IPv4. */
function fold(ip: IP): IP {
  if (ip.kind() === 'ipv6') {
    const v6 = ip as ipaddr.IPv6;
    if (v6.isIPv4MappedAddress()) return v6.toIPv4Address();
    // :: and ::1 have their own meaning; other ::/96 are deprecated compat.
    const s = v6.toNormalizedString();
    if (v6.match(V4_COMPAT) && s !== '0:0:0:0:0:0:0:0' && s !== '0:0:0:0:0:0:0:1') {
      return ipaddr.fromByteArray(v6.toByteArray().slice(12));
    }
  }
  return ip;
}

/** Refuses anything that is not public unicast, unless inside `allow`. */
export function isAddressAllowed(address: string, allow: CidrList): GuardResult {
  const canonical = parseHostLiteral(address);
  if (canonical === null) return { ok: false, reason: `"${address}" is not an IP address` };
  const original = ipaddr.parse(canonical);
  const ip = fold(original);
  // Check allow against both forms so `::ffff:0:0/96`-style entries also work.
  if (inList(ip, allow) || inList(original, allow)) return { ok: true };

  const label = ip.toString();
  const deny = ip.kind() === 'ipv4' ? DENY_V4 : DENY_V6;
  for (const [name, [net, bits]] of deny) {
    if (ip.match(net, bits)) return { ok: false, reason: `address ${label} is ${name}` };
  }
  const range = ip.range();
  if (range !== 'unicast') return { ok: false, reason: `address ${label} is ${range}` };
  if (ip.kind() === 'ipv6' && !ip.match(GLOBAL_V6)) {
    return { ok: false, reason: `address ${label} is outside global unicast 2000::/3` };
  }
  return { ok: true };
}

/**
 * If `host` (raw, or a URL hostname possibly in brackets) is an IP literal in
 * any encoding a resolver or the WHATWG URL parser accepts, return the
 * canonical address (IPv6 without brackets/zone); otherwise null.
 */
export function parseHostLiteral(host: string): string | null {
  if (host === '') return null;
  const bracketed = host.startsWith('[') && host.endsWith(']');
  const inner = bracketed ? host.slice(1, -1) : host;

  if (bracketed || inner.includes(':')) {
    // Zone ids (fe80::1%eth0, or %25 in URLs) are dropped: the address decides.
    const bare = inner.replace(/%.*$/s, '');
    return ipaddr.IPv6.isValid(bare) ? ipaddr.IPv6.parse(bare).toString() : null;
  }

  // Let the WHATWG parser do the IPv4 number parsing (127.1, 0x7f000001,
  // octal, fullwidth digits, %-escapes, trailing dot...). URL delimiters
  // would make it parse something other than a host, so reject them first.
  if (/[\s/?#@\\[\]]/.test(inner)) return null;
  let hostname: string;
  try {
    hostname = new URL(`http://${inner}/`).hostname;
  } catch {
    return null;
  }
  if (ipaddr.IPv4.isValidFourPartDecimal(hostname)) return hostname;
  // Fallback for inet_aton-style forms the URL parser may reject.
  if (/^[0-9a-fx.]+$/i.test(inner) && ipaddr.IPv4.isValid(inner)) {
    return ipaddr.IPv4.parse(inner).toString();
  }
  return null;
}

export type EndpointCheck = { ok: true; url: URL } | { ok: false; reason: string; code: 'invalid_url' | 'egress_refused' };

/**
 * Static check when an endpoint is saved (and again before each send).
 * DNS names are not resolved here; the dial-time lookup guard covers them.
 */
export function checkEndpointUrl(url: string, allow: CidrList): EndpointCheck {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { ok: false, code: 'invalid_url', reason: 'not a valid URL' };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    return { ok: false, code: 'invalid_url', reason: `scheme ${u.protocol} is not allowed (http/https only)` };
  }
  if (u.username !== '' || u.password !== '') {
    return { ok: false, code: 'invalid_url', reason: 'credentials in URL are not allowed' };
  }
  if (u.hostname === '') return { ok: false, code: 'invalid_url', reason: 'URL has no host' };

  const name = u.hostname.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) {
    // RFC 6761: resolvers may answer loopback for these without asking DNS.
    const r = isAddressAllowed('127.0.0.1', allow);
    return r.ok ? { ok: true, url: u } : { ok: false, code: 'egress_refused', reason: `host ${u.hostname} is loopback` };
  }
  const literal = parseHostLiteral(u.hostname);
  if (literal !== null) {
    const r = isAddressAllowed(literal, allow);
    if (!r.ok) return { ok: false, code: 'egress_refused', reason: r.reason };
  }
  return { ok: true, url: u };
}
