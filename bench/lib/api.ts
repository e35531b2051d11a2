import { Pool } from 'undici';
import { OPERATOR_TOKEN } from './gateway.ts';
import type { PublishTarget } from './load.ts';

/** The management calls a scenario needs to set up its tenant, consumers and endpoints (through the real API). */
export class TramlineApi {
  private readonly pool: Pool;
  apiKey = '';
  tenantId = '';

  constructor(
    readonly url: string,
    connections = 16,
  ) {
    this.pool = new Pool(url, { connections, pipelining: 1 });
  }

  async call<T>(method: 'POST' | 'GET', path: string, body?: unknown, token = this.apiKey): Promise<T> {
    const r = await this.pool.request({
      method,
      path,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await r.body.text();
    if (r.statusCode >= 300) throw new Error(`${method} ${path}: ${r.statusCode} ${text.slice(0, 500)}`);
    return JSON.parse(text) as T;
  }

  async createTenant(name = 'bench'): Promise<void> {
    const t = await this.call<{ id: string; apiKey: string }>('POST', '/v1/tenants', { name }, OPERATOR_TOKEN);
    this.apiKey = t.apiKey;
    this.tenantId = t.id;
  }

  async createConsumer(name: string): Promise<string> {
    return (await this.call<{ id: string }>('POST', '/v1/consumers', { name })).id;
  }

  async createEndpoint(consumer: string, url: string, extra: { channels?: string[] } = {}): Promise<string> {
    return (await this.call<{ id: string }>('POST', `/v1/consumers/${consumer}/endpoints`, { url, ...extra })).id;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

/** Runs `fn` over items with at most `concurrency` at a time, keeping the order of results. */
export async function mapConcurrent<T, R>(items: readonly T[], concurrency: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

export const SAMPLE_PAYLOAD = {
  invoice: 'inv_0001',
  amount: 4200,
  currency: 'EUR',
  lines: [
    { sku: 'A-1', qty: 2 },
    { sku: 'B-7', qty: 1 },
  ],
};

/** Publishes `invoice.paid` to consumers round-robin (or as `pick` decides), optionally to one channel. */
export function messageTarget(api: TramlineApi, pick: (i: number) => { consumer: string; channel?: string }): PublishTarget {
  const headers = { authorization: `Bearer ${api.apiKey}`, 'content-type': 'application/json' };
  return {
    origin: api.url,
    request(i) {
      const { consumer, channel } = pick(i);
      const body = JSON.stringify(
        channel
          ? { eventType: 'invoice.paid', payload: SAMPLE_PAYLOAD, channels: [channel] }
          : { eventType: 'invoice.paid', payload: SAMPLE_PAYLOAD },
      );
      return { path: `/v1/consumers/${consumer}/messages`, body, headers };
    },
  };
}
