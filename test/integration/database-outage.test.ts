import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres } from '../../src/store/db.ts';
import { createTenant, startTestGateway, type TestGateway, type TestTenant } from '../helpers/gateway.ts';
import { engine, openTestDb, type TestDb } from '../helpers/db.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { waitUntil } from '../helpers/wait.ts';

// PGlite runs inside the gateway's own process: there is no connection to lose, so this is a Postgres-server suite.
describe.skipIf(engine() !== 'postgres')('the database goes away and comes back', () => {
  let real: TestDb;
  let proxy: TcpProxy;
  let gw: TestGateway;
  let tenant: TestTenant;
  let receiver: Receiver;

  beforeAll(async () => {
    real = await openTestDb();
    const u = new URL(real.url!);
    proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port || 5432) });
    u.host = `127.0.0.1:${proxy.port}`;
    const db = openPostgres(u.toString(), 10);
    gw = await startTestGateway({ testDb: { engine: 'postgres', db, url: u.toString(), close: () => db.close() } });
    tenant = await createTenant(gw);
    receiver = await startReceiver();
    await tenant.api.post('/v1/consumers', { name: 'Globex', uid: 'globex' });
    expect((await tenant.api.post('/v1/consumers/globex/endpoints', { url: `${receiver.url}/hook` })).status).toBe(201);
  });
  afterAll(async () => {
    await proxy.restore().catch(() => {});
    await gw.stop();
    await proxy.close();
    await real.close();
    await receiver.close();
  });

  it('answers 503 with Retry-After while it is away (never 202 without a commit), then accepts again and delivers everything it accepted', async () => {
    const publish = (i: number) =>
      tenant.api.post('/v1/consumers/globex/messages', { eventType: 'e.t', eventId: `evt-${i}`, payload: { i } });
    const accepted = new Set<number>();
    for (let i = 0; i < 5; i++) {
      const r = await publish(i);
      expect(r.status).toBe(202);
      accepted.add(i);
    }

    // Ready before the outage: a readiness that remembered this answer would stay green through it.
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(200);
    await proxy.cut();
    const during = [];
    for (let i = 5; i < 15; i++) during.push(await publish(i));
    for (const r of during) {
      expect(r.status).toBe(503);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(r.body).toMatchObject({ status: 503, type: 'https://tramline.dev/problems/unavailable' });
    }
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(503);

    await proxy.restore();
    // The pool reconnects by itself: no process is restarted.
    await waitUntil(async () => (await fetch(`${gw.url}/readyz`)).status === 200, 20_000, 'ready again');
    let i = 15;
    await waitUntil(async () => (await publish(i)).status === 202, 20_000, 'publishing again');
    accepted.add(i);
    for (i = 16; i < 20; i++) {
      expect((await publish(i)).status).toBe(202);
      accepted.add(i);
    }

    // Everything answered 202 is delivered; nothing answered 503 was stored. A delivery in flight at the cut may
    // arrive twice (its completion was lost with the connection) or only once its lease ends, so this waits for
    // every accepted message rather than for a count of requests.
    const delivered = () => new Set(receiver.received.map((r) => (JSON.parse(r.body) as { data: { i: number } }).data.i));
    await waitUntil(async () => [...accepted].every((n) => delivered().has(n)), 30_000, 'every accepted message delivered');
    expect([...delivered()].sort((a, b) => a - b)).toEqual([...accepted].sort((a, b) => a - b));
    const stored = await real.db.owner(async (q) => (await q.query<{ n: number }>('SELECT count(*)::int AS n FROM messages')).rows[0]!.n);
    expect(stored).toBe(accepted.size);
  });
});
