// Egress guard end to end: every encoding of a loopback address, sent to the real gateway with nothing
// allowed, must be refused when the endpoint is saved AND when the worker dials it (rows planted past the
// save check). Canary servers on the loopback port count connections: the figure is 0.
// Traffic only ever goes to loopback; names used are only those /etc/hosts resolves locally.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, startTestGateway, type TestGateway, type TestTenant } from '../helpers/gateway.ts';
import { waitUntil } from '../helpers/wait.ts';

interface Canary {
  server: http.Server;
  connections: number;
  requests: number;
}

async function listen(host: string, port: number, onRequest?: http.RequestListener): Promise<Canary> {
  const c: Canary = {
    server: http.createServer((req, res) => {
      c.requests++;
      if (onRequest) onRequest(req, res);
      else res.end('canary reached');
    }),
    connections: 0,
    requests: 0,
  };
  c.server.on('connection', () => c.connections++);
  await new Promise<void>((resolve, reject) => {
    c.server.once('error', reject);
    c.server.listen(port, host, () => resolve());
  });
  return c;
}

const close = (c: Canary | undefined): Promise<void> =>
  new Promise((resolve) => {
    if (!c) return resolve();
    c.server.closeAllConnections();
    c.server.close(() => resolve());
  });

let v4: Canary;
let v6: Canary | undefined;
let v6Skip = '';
let P = 0;

/** Same port on 127.0.0.1 and ::1, so `[::1]:P`, `[::]:P` and `0:P` would all land on a canary. */
async function startCanaries(): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const a = await listen('127.0.0.1', 0);
    const port = (a.server.address() as AddressInfo).port;
    try {
      v6 = await listen('::1', port);
      v4 = a;
      P = port;
      return;
    } catch (err) {
      await close(a);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT') {
        v6Skip = `IPv6 loopback ::1 not bindable here (${code})`;
        v4 = await listen('127.0.0.1', 0);
        P = (v4.server.address() as AddressInfo).port;
        return;
      }
      // EADDRINUSE on ::1 for that port: try another port.
    }
  }
  throw new Error('could not get the same port on 127.0.0.1 and ::1');
}

/** Host names /etc/hosts maps to a loopback address (no external DNS is ever asked). */
function localLoopbackNames(): string[] {
  const names = new Set<string>();
  try {
    for (const line of fs.readFileSync('/etc/hosts', 'utf8').split('\n')) {
      const [addr, ...hosts] = line.replace(/#.*/, '').trim().split(/\s+/);
      if (!addr || !(addr.startsWith('127.') || addr === '::1')) continue;
      for (const h of hosts) if (h && !/^localhost\.?$/i.test(h) && !h.endsWith('.localhost')) names.add(h);
    }
  } catch {
    /* no /etc/hosts: nothing to add */
  }
  return [...names];
}

type Expect = 422 | 400 | 201;
interface Form {
  url: string;
  /** 422 egress refused at save; 400 not a valid URL; 201 accepted at save (a name: resolved only at dial time). */
  save: Expect;
}

function forms(): Form[] {
  const lit = (host: string): Form => ({ url: `http://${host}:${P}/`, save: 422 });
  const list: Form[] = [
    '127.0.0.1',
    '127.1',
    '127.0.1',
    '0177.0.0.1',
    '0x7f.0.0.1',
    '0x7f000001',
    '0X7F000001',
    '2130706433',
    '017700000001',
    '127.0.0.1.',
    '127.255.255.254',
    '[::ffff:7f00:1]',
    '[::ffff:127.0.0.1]',
    '[0:0:0:0:0:ffff:7f00:1]',
    '[::127.0.0.1]',
    '[::1]',
    '[0:0:0:0:0:0:0:1]',
    '0',
    '0.0.0.0',
    '[::]',
    'localhost',
    'localhost.',
    'LOCALHOST',
    'LocalHost.',
    'foo.localhost',
    '%31%32%37.0.0.1',
    '%30x7f000001',
    '１２７．０．０．１', // fullwidth digits and full stops
    '１２７.0.0.1',
    '127。0。0。1', // ideographic full stop
  ].map(lit);
  // https too: the check is per host, whatever the scheme.
  list.push({ url: `https://127.0.0.1:${P}/`, save: 422 }, { url: `https://[::1]:${P}/`, save: 422 });
  // Path, query and userinfo tricks.
  list.push(
    { url: `http://127.0.0.1:${P}/?u=http://example.com/`, save: 422 },
    { url: `http://user:pw@127.0.0.1:${P}/`, save: 400 }, // credentials in URL
    { url: `http://[::1%25lo]:${P}/`, save: 400 }, // zone id: the WHATWG parser rejects it
    { url: `gopher://127.0.0.1:${P}/`, save: 400 },
    { url: `file:///etc/passwd`, save: 400 },
  );
  // Names only /etc/hosts resolves (loopback): accepted at save (names are resolved at dial time only),
  // refused by the dial-time lookup guard.
  for (const name of localLoopbackNames()) list.push({ url: `http://${name}:${P}/`, save: 201 });
  return list;
}

interface Attempt {
  outcome: string;
  statusCode: number | null;
  error: string | null;
}

/** Publishes one message to a consumer and returns its first attempt. */
async function firstAttempt(t: TestTenant, consumer: string): Promise<Attempt[]> {
  const m = await t.api.post(`/v1/consumers/${consumer}/messages`, { eventType: 'canary.probe', payload: { probe: true } });
  expect(m.status).toBe(202);
  return waitUntil(async () => {
    const a = await t.api.get(`/v1/consumers/${consumer}/messages/${m.body.id}/attempts`);
    return a.body.data.length >= 1 ? (a.body.data as Attempt[]) : undefined;
  });
}

let gw: TestGateway;
let t: TestTenant;
let saveChecks = 0;
let dialChecks = 0;
let tried: Form[] = [];

beforeAll(async () => {
  await startCanaries();
  gw = await startTestGateway({ env: { TRAMLINE_EGRESS_ALLOW: '' } });
  t = await createTenant(gw);
});
afterAll(async () => {
  await gw?.stop();
  await close(v4);
  await close(v6);
});

describe('egress canary (nothing allowed)', () => {
  it('refuses every loopback URL form when the endpoint is saved', async () => {
    tried = forms();
    const c = await t.api.post('/v1/consumers', { name: 'save-check' });
    expect(c.status).toBe(201);
    const failures: string[] = [];
    for (const f of tried) {
      const r = await t.api.post(`/v1/consumers/${c.body.id}/endpoints`, { url: f.url });
      if (r.status === f.save) saveChecks++;
      if (r.status !== f.save) failures.push(`${f.url}: expected ${f.save}, got ${r.status} ${JSON.stringify(r.body)}`);
      else if (f.save !== 201 && !String(r.headers.get('content-type')).startsWith('application/problem+json')) {
        failures.push(`${f.url}: ${r.status} without problem+json (${r.headers.get('content-type')})`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('refuses every form again at dial time (rows planted past the save check)', async () => {
    // The signing secret is sealed with associated data bound to the endpoint id, so a copied row with a
    // new id could not be opened. Instead each form gets its own consumer and an endpoint created through
    // the API (with a name that passes the save check and is never dialled), whose url is then rewritten
    // as the owner: id, secret and headers stay exactly what the gateway wrote.
    const dialable = tried.filter((f) => /^https?:/.test(f.url) && !f.url.includes('@') && !f.url.includes('%25'));
    const failures: string[] = [];
    await Promise.all(
      dialable.map(async (f, i) => {
        const c = await t.api.post('/v1/consumers', { name: `dial-${i}` });
        const e = await t.api.post(`/v1/consumers/${c.body.id}/endpoints`, { url: 'http://placeholder.invalid/never-dialled' });
        expect(e.status).toBe(201);
        const n = await gw.testDb.db.owner((q) => q.query('UPDATE endpoints SET url = $1 WHERE id = $2', [f.url, e.body.id]));
        expect(n.rowCount).toBe(1);
        // The tenant reads a generic network error (no address, no reason); that no connection was made is
        // shown by the canaries below, which count every connection to them.
        const attempts = await firstAttempt(t, c.body.id);
        const a = attempts[0]!;
        if (
          a.outcome !== 'failed' ||
          a.statusCode !== null ||
          !/^network: /.test(a.error ?? '') ||
          attempts.some((x) => x.outcome === 'succeeded')
        ) {
          failures.push(`${f.url}: ${JSON.stringify(attempts)}`);
        } else dialChecks++;
      }),
    );
    expect(failures).toEqual([]);
    expect(v4.connections).toBe(0);
    expect(v6?.connections ?? 0).toBe(0);
  });

  it('has an IPv6 loopback canary on the same port', (ctx) => {
    if (v6Skip) ctx.skip(v6Skip);
    expect(v6).toBeDefined();
  });
});

describe('redirects are never followed', () => {
  let gw2: TestGateway;
  let rx: Canary;
  let bindable = true;
  let reason = '';

  beforeAll(async () => {
    try {
      rx = await listen('127.0.0.2', 0, (_req, res) => {
        res.writeHead(302, { location: `http://127.0.0.1:${P}/` });
        res.end();
      });
    } catch (err) {
      bindable = false;
      reason = `127.0.0.2 is not bindable here (${(err as NodeJS.ErrnoException).code})`;
      return;
    }
    gw2 = await startTestGateway({ env: { TRAMLINE_EGRESS_ALLOW: '127.0.0.2/32' } });
  });
  afterAll(async () => {
    await gw2?.stop();
    await close(rx);
  });

  it('a 302 from an allowed receiver to the canary is recorded, not followed', async (ctx) => {
    if (!bindable) ctx.skip(reason);
    const t2 = await createTenant(gw2);
    const c = await t2.api.post('/v1/consumers', { name: 'redirect' });
    const port = (rx.server.address() as AddressInfo).port;
    // The canary itself is refused with this allowlist; the receiver on 127.0.0.2 is not.
    const refused = await t2.api.post(`/v1/consumers/${c.body.id}/endpoints`, { url: `http://127.0.0.1:${P}/` });
    expect(refused.status).toBe(422);
    const e = await t2.api.post(`/v1/consumers/${c.body.id}/endpoints`, { url: `http://127.0.0.2:${port}/hook` });
    expect(e.status).toBe(201);
    const attempts = await firstAttempt(t2, c.body.id);
    expect(attempts[0]).toMatchObject({ outcome: 'failed', statusCode: 302 });
    // Let any retries run too (schedule 0s, 200ms, 400ms): none may follow the Location.
    await new Promise((r) => setTimeout(r, 1500));
    expect(rx.requests).toBeGreaterThanOrEqual(1);
    expect(v4.connections).toBe(0);
    expect(v6?.connections ?? 0).toBe(0);
  });

  afterAll(() => {
    const total = v4.connections + (v6?.connections ?? 0);
    console.log(
      `egress canary: ${tried.length} URL forms tried × 2 checks (save as expected: ${saveChecks} — ` +
        `${tried.filter((f) => f.save === 422).length}×422, ${tried.filter((f) => f.save === 400).length}×400, ` +
        `${tried.filter((f) => f.save === 201).length}×201 /etc/hosts names; dial: ${dialChecks} egress_refused); ` +
        `redirect to canary: ${bindable ? 'checked' : `skipped (${reason})`}; ` +
        `IPv6 canary: ${v6 ? `on [::1]:${P}` : `skipped (${v6Skip})`}; canary connections = ${total}`,
    );
  });
});
