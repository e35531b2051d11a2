/**
 * The rollout's load generator: a tenant with a few consumers, each with an endpoint at the receiver; then
 * `rate` requests a second through nginx, paced by the clock — 70 % publishes, 30 % reads of a message
 * published earlier. Publishes carry an Idempotency-Key as the SDK sends them (a fresh one per publish; off with
 * `idempotencyKeys: false`, so nginx may not send a publish twice); the client itself never retries, so every
 * failure the proxy or the gateway lets through is counted.
 *
 * By default a connection per request: a reload of nginx (this test's way of changing the upstream list)
 * closes idle client connections, and a client writing on one at that instant fails — an artefact of
 * reloading, not of the gateway (ingress-nginx changes its upstreams without reloading).
 * ROLLOUT_CLIENT_KEEPALIVE=1 keeps client connections alive, to see it. Between nginx and the gateways,
 * connections are kept alive as in production.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import { say } from './support.ts';

export const CONSUMERS = 5;
const MAX_IN_FLIGHT = 1000;

export interface Sample {
  phase: string;
  kind: 'publish' | 'read';
  /** Wall-clock start, ms since the epoch. */
  at: number;
  ms: number;
  status: number | null;
  error: string | null;
}

export interface Load {
  readonly samples: Sample[];
  /** Message ids answered 202 (or 200 replayed): each must be stored and delivered. */
  readonly accepted: Set<string>;
  /** Requests not sent because MAX_IN_FLIGHT were already waiting (the fleet did not keep up). */
  readonly overloaded: number;
  readonly inFlight: number;
  phase: string;
  /** Stops sending and waits (≤ timeoutMs) for every request in flight; resolves with how many are left. */
  stop(timeoutMs: number): Promise<number>;
  close(): Promise<void>;
}

export const clientKeepAlive = (): boolean => process.env.ROLLOUT_CLIENT_KEEPALIVE === '1';

/** A tenant and CONSUMERS consumers with an endpoint each at `rxUrl`; resolves with the tenant's API key. */
export async function setupTenant(base: string, operatorToken: string, rxUrl: string): Promise<string> {
  const pool = new Pool(base, { connections: 4, pipelining: 0 });
  try {
    const op = await call(pool, 'POST', '/v1/tenants', operatorToken, { name: 'Rollout' });
    if (op.status !== 201) throw new Error(`tenant: ${op.status} ${op.text}`);
    const key = (JSON.parse(op.text) as { apiKey: string }).apiKey;
    for (let c = 0; c < CONSUMERS; c++) {
      const r = await call(pool, 'POST', '/v1/consumers', key, { name: `Consumer ${c}`, uid: `c${c}` });
      if (r.status !== 201) throw new Error(`consumer: ${r.status} ${r.text}`);
      const e = await call(pool, 'POST', `/v1/consumers/c${c}/endpoints`, key, { url: `${rxUrl}/c${c}` });
      if (e.status !== 201) throw new Error(`endpoint: ${e.status} ${e.text}`);
    }
    return key;
  } finally {
    await pool.close();
  }
}

export function startLoad(base: string, key: string, rate: number, opts: { quiet?: boolean; idempotencyKeys?: boolean } = {}): Load {
  const keepAlive = clientKeepAlive();
  const pool = new Pool(base, {
    connections: 256,
    pipelining: keepAlive ? 1 : 0,
    keepAliveTimeout: 30_000,
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
  });
  const samples: Sample[] = [];
  const accepted = new Set<string>();
  const acceptedList: Array<{ consumer: string; id: string }> = [];
  let inFlight = 0;
  let overloaded = 0;
  let seq = 0;
  const load = {
    samples,
    accepted,
    phase: 'before',
    get overloaded() {
      return overloaded;
    },
    get inFlight() {
      return inFlight;
    },
    async stop(timeoutMs: number) {
      clearInterval(ticker);
      const deadline = Date.now() + timeoutMs;
      while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      return inFlight;
    },
    close: () => pool.close(),
  };

  const fire = (): void => {
    if (inFlight >= MAX_IN_FLIGHT) {
      overloaded++;
      return;
    }
    const n = seq++;
    const read = acceptedList.length > 0 && n % 10 >= 7;
    const phase = load.phase;
    const at = Date.now();
    const t0 = performance.now();
    inFlight++;
    let consumer = `c${n % CONSUMERS}`;
    let req: Promise<{ status: number; text: string }>;
    if (read) {
      const m = acceptedList[Math.floor(Math.random() * acceptedList.length)]!;
      consumer = m.consumer;
      req = call(pool, 'GET', `/v1/consumers/${m.consumer}/messages/${m.id}`, key);
    } else {
      req = call(
        pool,
        'POST',
        `/v1/consumers/${consumer}/messages`,
        key,
        { eventType: 'rollout.tick', payload: { n } },
        opts.idempotencyKeys === false ? undefined : `idem_${randomUUID()}`,
      );
    }
    const kind = read ? 'read' : 'publish';
    req
      .then(
        (r) => {
          samples.push({ phase, kind, at, ms: performance.now() - t0, status: r.status, error: null });
          // 200 + idempotent-replayed: nginx sent the publish to a second replica after the first had stored it.
          if (!read && (r.status === 202 || r.status === 200)) {
            const id = (JSON.parse(r.text) as { id: string }).id;
            if (!accepted.has(id)) acceptedList.push({ consumer, id });
            accepted.add(id);
          } else if ((r.status < 200 || r.status > 299) && !opts.quiet) say(`${kind} answered ${r.status}: ${r.text.slice(0, 200)}`);
        },
        (err: Error & { code?: string }) => {
          samples.push({ phase, kind, at, ms: performance.now() - t0, status: null, error: err.code ?? err.message });
          if (!opts.quiet) say(`${kind} connection error: ${err.code ?? ''} ${err.message}`);
        },
      )
      .finally(() => inFlight--);
  };
  // Paced by the clock, not by a fixed interval, so a busy event loop catches up instead of falling behind.
  const loadStart = performance.now();
  let fired = 0;
  const ticker = setInterval(() => {
    const due = Math.floor(((performance.now() - loadStart) / 1000) * rate);
    while (fired < due) {
      fired++;
      fire();
    }
  }, 5);
  return load;
}

async function call(
  pool: Pool,
  method: 'GET' | 'POST',
  path: string,
  token: string,
  body?: unknown,
  idempotencyKey?: string,
): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
  const r = await pool.request({ method, path, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: r.statusCode, text: await r.body.text() };
}
