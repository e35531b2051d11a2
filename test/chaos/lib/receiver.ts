import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/**
 * One HTTP server standing for every endpoint of a scenario (`/e/<endpoint key>`), failing on purpose:
 * for each request `behave` says whether it answers 2xx, a 5xx, or never answers (the worker's deadline ends
 * the attempt). It counts, per endpoint and webhook-id, how many times it answered 2xx: that is what
 * "delivered" means in the conservation check, and a second 2xx for the same pair is a duplicate.
 * Every request's signature is verified (Standard Webhooks, ±5 min tolerance) with its endpoint's secret.
 */
export type Behaviour = 'ok' | '5xx' | 'hang' | '500';

export interface ChaosReceiver {
  url: string;
  /** `${endpointKey} ${webhookId}` → 2xx answers. */
  ok: Map<string, number>;
  requests: number;
  answered5xx: number;
  hung: number;
  badSignatures: string[];
  /** webhook-timestamp minus the receiver's clock, in seconds, for every request (the skew scenario). */
  timestampSkews: number[];
  /** When each pair was first answered 2xx (ms since epoch). */
  firstOkAt: Map<string, number>;
  setSecret(endpointKey: string, secret: string): void;
  close(): Promise<void>;
}

const FIVE_XX = [500, 502, 503, 504];

export async function startChaosReceiver(
  behave: (endpointKey: string) => Behaviour = () => 'ok',
  o: { answerDelayMs?: number } = {},
): Promise<ChaosReceiver> {
  const verifiers = new Map<string, Webhook>();
  const hanging = new Set<http.ServerResponse>();
  const self: ChaosReceiver = {
    url: '',
    ok: new Map(),
    requests: 0,
    answered5xx: 0,
    hung: 0,
    badSignatures: [],
    timestampSkews: [],
    firstOkAt: new Map(),
    setSecret: (key, secret) => verifiers.set(key, new Webhook(secret)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      self.requests++;
      const key = (req.url ?? '').replace(/^\/e\//, '');
      const id = String(req.headers['webhook-id'] ?? '');
      const ts = Number(req.headers['webhook-timestamp']);
      if (Number.isFinite(ts)) self.timestampSkews.push(ts - Date.now() / 1000);
      const wh = verifiers.get(key);
      if (wh) {
        try {
          wh.verify(Buffer.concat(chunks).toString('utf8'), {
            'webhook-id': id,
            'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
            'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
          });
        } catch (err) {
          self.badSignatures.push(`${key} ${id}: ${(err as Error).message}`);
          res.writeHead(400).end();
          return;
        }
      }
      const b = behave(key);
      if (b === 'hang') {
        // Never answered: the worker's deadline aborts the attempt and closes the connection.
        self.hung++;
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      if (b === '5xx' || b === '500') {
        self.answered5xx++;
        res.writeHead(b === '500' ? 500 : FIVE_XX[Math.floor(Math.random() * FIVE_XX.length)]!).end('chaos');
        return;
      }
      const answer = (): void => {
        if (res.destroyed) return; // the worker gave up first: not delivered
        const pair = `${key} ${id}`;
        self.ok.set(pair, (self.ok.get(pair) ?? 0) + 1);
        if (!self.firstOkAt.has(pair)) self.firstOkAt.set(pair, Date.now());
        res.writeHead(204).end();
      };
      if (o.answerDelayMs) setTimeout(answer, o.answerDelayMs);
      else answer();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  self.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return self;
}

/** Each request: `hang` with probability `hang`, else `5xx` with probability `fail`, else `ok`. */
export function flaky(fail: number, hang: number): () => Behaviour {
  return () => {
    const r = Math.random();
    return r < hang ? 'hang' : r < hang + fail ? '5xx' : 'ok';
  };
}
