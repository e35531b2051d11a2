// Outbound HTTP for webhook delivery. Every connection goes through the
// egress guard at dial time: DNS is resolved once inside `connect.lookup`,
// every answer is checked, and the checked address is what net connects to,
// so a rebinding DNS server cannot swap in a private address afterwards.
import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Agent, buildConnector } from 'undici';
import { checkEndpointUrl, isAddressAllowed, type CidrList } from '../domain/egress-guard.ts';

export interface HttpClientOptions {
  timeoutMs: number;
  connectTimeoutMs?: number;
  allow: CidrList;
  maxExcerptBytes?: number; // default 4096
  connectionsPerOrigin?: number;
  /** Offer HTTP/2 in TLS's ALPN; an endpoint that picks it gets its deliveries as streams of one connection. Default false. */
  http2?: boolean;
  /** Certificates trusted besides the system's (PEM). Tests; in production NODE_EXTRA_CA_CERTS does this. */
  ca?: string;
}

export type SendErrorCode = 'egress_refused' | 'timeout' | 'connect_failed' | 'dns_failed' | 'tls' | 'invalid_url' | 'network';

export type SendResult =
  | { kind: 'response'; status: number; retryAfterMs: number | null; excerpt: string; durationMs: number }
  | { kind: 'error'; code: SendErrorCode; message: string; durationMs: number };

export interface HttpClient {
  post(url: string, headers: Record<string, string>, body: string, signal?: AbortSignal): Promise<SendResult>;
  close(): Promise<void>;
}

const EGRESS_CODE = 'ERR_EGRESS_REFUSED';
/**
 * Requests undici puts on one HTTP/2 connection before it dials another: above any window an endpoint gets, because
 * undici dials a connection per request while one is being dialled. Beyond the server's own limit (its SETTINGS),
 * streams wait their turn inside the connection.
 */
const H2_REQUESTS_PER_CONNECTION = 1_000;

class EgressRefusedError extends Error {
  readonly code = EGRESS_CODE;
}

type ResolveAll = (
  hostname: string,
  options: dns.LookupAllOptions,
  cb: (err: NodeJS.ErrnoException | null, addresses: dns.LookupAddress[]) => void,
) => void;

/**
 * dns.lookup wrapper that refuses the whole answer if any address is refused.
 * Exported (with an injectable resolver) for tests.
 */
export function guardedLookup(allow: CidrList, resolve: ResolveAll = dns.lookup): LookupFunction {
  return (hostname, options, callback) => {
    // Always ask for all addresses so none can slip past the check.
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      for (const a of addresses) {
        const r = isAddressAllowed(a.address, allow);
        if (!r.ok) return callback(new EgressRefusedError(`${hostname} resolved to a refused address: ${r.reason}`), '');
      }
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`no addresses for ${hostname}`), { code: 'ENOTFOUND' }), '');
      // net uses the `all` form with autoSelectFamily, the single form otherwise.
      if (options.all) callback(null, addresses);
      else callback(null, first.address, first.family);
    });
  };
}

export function parseRetryAfter(value: string | string[] | undefined, nowMs = Date.now()): number | null {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return null;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // HTTP-date (IMF-fixdate, RFC 850 or asctime). Date.parse alone is too
  // lenient (`Date.parse('1.5')` is a date), so require the shape first.
  let at: number;
  if (/^[a-z]{3,9}, \d{2}[ -][a-z]{3}[ -]\d{2,4} \d{2}:\d{2}:\d{2} GMT$/i.test(v)) at = Date.parse(v);
  else if (/^[a-z]{3} [a-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/i.test(v))
    at = Date.parse(`${v} GMT`); // asctime is UTC
  else return null;
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

function classify(err: unknown): { code: SendErrorCode; message: string } {
  const e = err as { code?: unknown; message?: unknown; cause?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' && e.message !== '' ? e.message : String(err);
  if (code === EGRESS_CODE) return { code: 'egress_refused', message };
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'ETIMEDOUT') {
    return { code: 'timeout', message };
  }
  if (['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME'].includes(code)) return { code: 'dns_failed', message };
  if (/^(ERR_TLS_|ERR_SSL_|UNABLE_TO_|CERT_|DEPTH_ZERO|SELF_SIGNED|EPROTO$)/.test(code)) return { code: 'tls', message };
  if (['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENETDOWN', 'EHOSTDOWN'].includes(code)) {
    return { code: 'connect_failed', message };
  }
  // autoSelectFamily reports multiple attempts as an AggregateError.
  if (err instanceof AggregateError && err.errors.length > 0) return classify(err.errors[0]);
  return { code: 'network', message: code ? `${code}: ${message}` : message };
}

// Longer than 80 lines on purpose: one closure over the connection pool and the guarded lookup, whose one
// `post` reads top to bottom as the attempt happens (connect, send, cap the response, classify the failure).
export function createHttpClient(opts: HttpClientOptions, now: () => number = performance.now.bind(performance)): HttpClient {
  const maxExcerpt = opts.maxExcerptBytes ?? 4096;
  const connectOptions = {
    timeout: opts.connectTimeoutMs ?? Math.min(opts.timeoutMs, 10_000),
    lookup: guardedLookup(opts.allow),
    ...(opts.ca ? { ca: opts.ca } : {}),
  };
  // Belt and braces: re-check the peer actually connected to, which also
  // covers literal-IP hosts (net skips lookup for those). `settled` hears of every dial to an origin, and its ALPN.
  const guarded =
    (base: ReturnType<typeof buildConnector>, settled: (origin: string, alpn: string | null) => void): buildConnector.connector =>
    (options, callback) => {
      base(options, (err, socket) => {
        const origin = `${options.protocol}//${options.host}`;
        if (err || !socket) {
          settled(origin, null);
          return callback(err ?? new Error('connect failed'), null);
        }
        const r = isAddressAllowed(socket.remoteAddress ?? '', opts.allow);
        if (!r.ok) {
          socket.destroy();
          settled(origin, null);
          return callback(new EgressRefusedError(`connected peer refused: ${r.reason}`), null);
        }
        settled(origin, (socket as { alpnProtocol?: string | false }).alpnProtocol || 'http/1.1');
        callback(null, socket);
      });
    };
  const timeouts = { headersTimeout: opts.timeoutMs, bodyTimeout: opts.timeoutMs };
  const h1 = new Agent({
    connect: guarded(buildConnector(connectOptions), () => {}),
    connections: opts.connectionsPerOrigin ?? null,
    ...timeouts,
  });
  // HTTP/2 (opt-in) for TLS endpoints that pick it in ALPN: their deliveries go as streams of one connection. undici
  // puts a request on a busy connection only when it may be sent again should the connection fail (`idempotent`),
  // and a delivery may: receivers deduplicate by webhook-id, delivery is at least once. On HTTP/1.1 that would
  // pipeline POSTs, so a request is marked so only once its origin has answered in HTTP/2, and an origin that picked
  // HTTP/1.1 goes back to the plain agent for good. Until an origin's first dial has settled, the others to it wait:
  // sent at once, each would open a connection of its own.
  const protocols = new Map<string, 'h1' | 'h2'>();
  const dialing = new Map<string, { settled: Promise<void>; settle: () => void }>();
  const h2 = opts.http2
    ? new Agent({
        connect: guarded(buildConnector({ ...connectOptions, allowH2: true }), (origin, alpn) => {
          if (alpn) protocols.set(origin, alpn === 'h2' ? 'h2' : 'h1');
          dialing.get(origin)?.settle();
        }),
        allowH2: true,
        pipelining: H2_REQUESTS_PER_CONNECTION,
        ...timeouts,
      })
    : null;
  type Route = { agent: Agent; idempotent: boolean; first?: () => void } | { wait: Promise<void> };
  const route = (u: URL): Route => {
    if (!h2 || u.protocol !== 'https:') return { agent: h1, idempotent: false };
    const known = protocols.get(u.origin);
    if (known !== undefined) return known === 'h1' ? { agent: h1, idempotent: false } : { agent: h2, idempotent: true };
    const dial = dialing.get(u.origin);
    if (dial) return { wait: dial.settled };
    let settle = (): void => {};
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const entry = {
      settled,
      settle: () => {
        if (dialing.get(u.origin) === entry) dialing.delete(u.origin);
        settle();
      },
    };
    dialing.set(u.origin, entry);
    return { agent: h2, idempotent: false, first: entry.settle };
  };

  async function post(url: string, headers: Record<string, string>, body: string, signal?: AbortSignal): Promise<SendResult> {
    const start = now();
    const elapsed = () => Math.max(0, now() - start);
    const fail = (code: SendErrorCode, message: string): SendResult => ({ kind: 'error', code, message, durationMs: elapsed() });

    const checked = checkEndpointUrl(url, opts.allow);
    if (!checked.ok) return fail(checked.code, checked.reason);
    const u = checked.url;

    // One deadline for connect + headers + body; the caller's signal also aborts.
    const deadline = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      deadline.abort(new Error(`timed out after ${opts.timeoutMs} ms`));
    }, opts.timeoutMs);
    // A listener, not AbortSignal.any: that one costs weak references and a finalizer per request.
    const onCallerAbort = (): void => deadline.abort(signal?.reason);
    if (signal?.aborted) onCallerAbort();
    else signal?.addEventListener('abort', onCallerAbort, { once: true });

    let settleDial: (() => void) | undefined;
    try {
      let r = route(u);
      while ('wait' in r) {
        const aborted = new Promise((resolve) => deadline.signal.addEventListener('abort', resolve, { once: true }));
        await Promise.race([r.wait, aborted]);
        deadline.signal.throwIfAborted();
        r = route(u);
      }
      const { agent, idempotent, first } = r;
      settleDial = first;
      const res = await agent.request({
        origin: u.origin,
        idempotent,
        path: u.pathname + u.search,
        method: 'POST',
        headers,
        body,
        signal: deadline.signal,
      });
      // Read at most maxExcerpt bytes; breaking out destroys the stream so a
      // huge (or endless) body is never buffered.
      const chunks: Buffer[] = [];
      let size = 0;
      if (maxExcerpt > 0) {
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          const take = chunk.subarray(0, maxExcerpt - size);
          chunks.push(take);
          size += take.length;
          if (size >= maxExcerpt) break;
        }
        // undici hands a finished keep-alive socket back to its pool one
        // event-loop turn after the response (setImmediate); waiting for that
        // lets a back-to-back delivery reuse it instead of dialling again.
        if (res.body.readableEnded) await nextTurn();
      } else {
        res.body.destroy();
      }
      // stream:true drops a trailing partial UTF-8 sequence instead of
      // turning it into U+FFFD.
      const excerpt = new TextDecoder('utf-8').decode(Buffer.concat(chunks), { stream: true });
      return {
        kind: 'response',
        status: res.statusCode,
        retryAfterMs: parseRetryAfter(res.headers['retry-after']),
        excerpt,
        durationMs: elapsed(),
      };
    } catch (err) {
      if (timedOut) return fail('timeout', `timed out after ${opts.timeoutMs} ms`);
      if (signal?.aborted) return fail('network', 'aborted by caller');
      const c = classify(err);
      return fail(c.code, c.message);
    } finally {
      settleDial?.(); // the first to an origin that failed before it dialled
      clearTimeout(timer);
      signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  return {
    post,
    close: async () => {
      await Promise.all([h1.close(), h2?.close()]);
    },
  };
}
