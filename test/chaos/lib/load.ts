import { randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import { mapLimit, sleep } from '../../helpers/process.ts';
import { OPERATOR_TOKEN } from './fleet.ts';
import type { ChaosReceiver } from './receiver.ts';

/**
 * Tenants, consumers and endpoints pointing at a chaos receiver, and publishers that behave like careful
 * clients: every publish carries an Idempotency-Key and is retried with it until it gets an answer that
 * commits (202, or 200 replaying a commit whose answer was lost), following Retry-After on 503 and moving to
 * the next api replica when a connection fails. Every other answer is counted by status: a 5xx other than
 * 503 is a fault (the client cannot know whether to retry).
 */
const agent = new Agent({ keepAliveTimeout: 10_000, connections: 64 });

export interface Target {
  tenant: string;
  key: string;
  consumer: string;
  /** The receiver path `/e/<endpointKey>` of the consumer's one endpoint. */
  endpointKey: string;
  endpointId: string;
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

export async function call(
  base: string,
  method: string,
  path: string,
  token: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const res = await request(base + path, {
    method: method as 'GET',
    dispatcher: agent,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  const text = await res.body.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  return { status: res.statusCode, headers: res.headers, body: parsed };
}

async function must(r: Promise<Reply>, status: number, what: string): Promise<any> {
  const a = await r;
  if (a.status !== status) throw new Error(`${what} answered ${a.status}: ${JSON.stringify(a.body)}`);
  return a.body;
}

/**
 * `tenants` tenants with `endpointsPerTenant` consumers each, one endpoint per consumer at
 * `${receiver.url}/e/<key>`; the receiver learns every secret to verify signatures.
 */
export async function provision(
  base: string,
  rx: ChaosReceiver,
  o: { tenants: number; endpointsPerTenant: number; prefix?: string; urlFor?: (key: string) => string },
): Promise<Target[]> {
  const prefix = o.prefix ?? 't';
  const targets: Target[] = [];
  await mapLimit(
    Array.from({ length: o.tenants }, (_, i) => i),
    4,
    async (t) => {
      const tenant = await must(call(base, 'POST', '/v1/tenants', OPERATOR_TOKEN, { name: `${prefix}${t}` }), 201, 'tenant');
      for (let c = 0; c < o.endpointsPerTenant; c++) {
        const endpointKey = `${prefix}${t}-c${c}`;
        const consumer = await must(
          call(base, 'POST', '/v1/consumers', tenant.apiKey, { name: endpointKey, uid: endpointKey }),
          201,
          'consumer',
        );
        const url = o.urlFor ? o.urlFor(endpointKey) : `${rx.url}/e/${endpointKey}`;
        const ep = await must(call(base, 'POST', `/v1/consumers/${consumer.id}/endpoints`, tenant.apiKey, { url }), 201, 'endpoint');
        const s = await must(call(base, 'GET', `/v1/consumers/${consumer.id}/endpoints/${ep.id}/secret`, tenant.apiKey), 200, 'secret');
        rx.setSecret(endpointKey, s.secret);
        targets.push({ tenant: tenant.id, key: tenant.apiKey, consumer: consumer.id, endpointKey, endpointId: ep.id });
      }
    },
  );
  return targets;
}

export interface Accepted {
  messageId: string;
  endpointKey: string;
  /** When the publish was first sent (for publish → delivered latency). */
  sentAt: number;
  /** When the attempt that was accepted was sent, and when its answer came (a publish may be retried). */
  attemptAt: number;
  answeredAt: number;
}

export interface Load {
  accepted: Accepted[];
  /** Answers by status (`202`, `200`, `503`, `500`…) and `no answer` for a failed connection. */
  answers: Record<string, number>;
  /** 503 answers that lacked a positive Retry-After, and the first few of their bodies. */
  unavailableWithoutRetryAfter: number;
  unavailableWithoutRetryAfterBodies: unknown[];
  /** Publish latencies (ms) of the answers that committed, in order. */
  latencies: number[];
  /** Messages still being published. */
  readonly inFlight: number;
  stop(): void;
  done: Promise<void>;
}

export interface LoadOptions {
  apiUrls: readonly string[];
  targets: readonly Target[];
  /** How many messages; with `durationMs`, publishing stops at whichever comes first. */
  messages: number;
  concurrency: number;
  /** Messages per second at most (paced); unset: as fast as the concurrency allows. */
  rate?: number;
  durationMs?: number;
  /** Give up on one message after this long without a committing answer (it then fails the scenario). */
  giveUpMs?: number;
  /** Bytes of padding in message `i`'s payload (large payloads: memory pressure); unset: none. */
  padBytes?: (i: number) => number;
}

/** Publishes in the background; `done` resolves when every message got a committing answer (or rejects). */
export function startLoad(o: LoadOptions): Load {
  const run = randomBytes(4).toString('hex');
  const answers: Record<string, number> = {};
  const load: Load = {
    accepted: [],
    answers,
    unavailableWithoutRetryAfter: 0,
    unavailableWithoutRetryAfterBodies: [],
    latencies: [],
    inFlight: 0,
    stop: () => {
      stopped = true;
    },
    done: Promise.resolve(),
  };
  let stopped = false;
  let inFlight = 0;
  Object.defineProperty(load, 'inFlight', { get: () => inFlight });
  const count = (k: string): void => {
    answers[k] = (answers[k] ?? 0) + 1;
  };
  const started = Date.now();
  let api = 0;
  load.done = mapLimit(
    Array.from({ length: o.messages }, (_, i) => i),
    o.concurrency,
    async (i) => {
      if (o.rate) {
        const due = started + (i / o.rate) * 1000;
        while (!stopped && due > Date.now()) await sleep(Math.min(250, due - Date.now()));
      }
      if (stopped || (o.durationMs && Date.now() - started > o.durationMs)) return;
      const target = o.targets[i % o.targets.length]!;
      const padBytes = o.padBytes?.(i) ?? 0;
      const pad = padBytes > 0 ? 'x'.repeat(padBytes) : null;
      const sentAt = Date.now();
      const giveUp = sentAt + (o.giveUpMs ?? 120_000);
      inFlight++;
      try {
        for (;;) {
          const base = o.apiUrls[api % o.apiUrls.length]!;
          const t0 = Date.now();
          let r: Reply;
          try {
            r = await call(
              base,
              'POST',
              `/v1/consumers/${target.consumer}/messages`,
              target.key,
              { eventType: 'chaos.tick', payload: pad ? { i, run, pad } : { i, run } },
              {
                'idempotency-key': `${run}-${i}`,
              },
            );
          } catch {
            count('no answer');
            api++; // this replica is down: the next one
            if (Date.now() > giveUp) throw new Error(`publish ${i} got no committing answer in ${o.giveUpMs ?? 120_000} ms`);
            await sleep(100);
            continue;
          }
          count(String(r.status));
          if (r.status === 202 || r.status === 200) {
            load.latencies.push(Date.now() - t0);
            load.accepted.push({ messageId: r.body.id, endpointKey: target.endpointKey, sentAt, attemptAt: t0, answeredAt: Date.now() });
            return;
          }
          if (Date.now() > giveUp)
            throw new Error(`publish ${i}: still ${r.status} after ${o.giveUpMs ?? 120_000} ms: ${JSON.stringify(r.body)}`);
          let wait = 200;
          if (r.status === 503) {
            const ra = Number(r.headers['retry-after']);
            if (!(ra > 0)) {
              load.unavailableWithoutRetryAfter++;
              if (load.unavailableWithoutRetryAfterBodies.length < 3) load.unavailableWithoutRetryAfterBodies.push(r.body);
            } else wait = Math.min(ra * 1000, 1000); // honoured, capped so the scenario sees recovery promptly
          }
          await sleep(wait);
        }
      } finally {
        inFlight--;
      }
    },
  ).then(() => {});
  return load;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function closeLoadAgent(): Promise<void> {
  await agent.close();
}
