import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant, startTestGateway, type TestGateway, type TestTenant } from '../helpers/gateway.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';

let gw: TestGateway;
let t: TestTenant;
let rx: Receiver;

beforeAll(async () => {
  gw = await startTestGateway();
  t = await createTenant(gw);
  rx = await startReceiver((r) => ({ status: r.path === '/gone' ? 410 : 200 }));
});
afterAll(async () => {
  await gw?.stop();
  await rx?.close();
});

type Entry = { actor: string; action: string; target: string | null; ip: string | null; status: number; createdAt: string };

async function log(): Promise<Entry[]> {
  // Entries are written just after each response: poll until the writes have landed.
  let entries: Entry[] = [];
  for (let i = 0; i < 50; i++) {
    entries = (await t.api.get('/v1/audit-log?limit=250')).body.data;
    await new Promise((r) => setTimeout(r, 20));
    const again = (await t.api.get('/v1/audit-log?limit=250')).body.data as Entry[];
    if (again.length === entries.length) return again;
  }
  return entries;
}

describe('audit log', () => {
  it('records every change with who, what, when and from where, and no reads or publishes', async () => {
    const c = (await t.api.post('/v1/consumers', { name: 'Audited' })).body.id as string;
    const e = (await t.api.post(`/v1/consumers/${c}/endpoints`, { url: `${rx.url}/ok` })).body.id as string;
    await t.api.patch(`/v1/consumers/${c}/endpoints/${e}`, { description: 'changed' });
    await t.api.get(`/v1/consumers/${c}/endpoints/${e}/secret`);
    await t.api.post(`/v1/consumers/${c}/endpoints/${e}/secret/rotate`, {});
    const k = (await t.api.post('/v1/api-keys', { scopes: ['read'] })).body.id as string;
    await t.api.delete(`/v1/api-keys/${k}`);
    await t.api.post(`/v1/consumers/${c}/messages`, { eventType: 'a.b', payload: {} });
    await t.api.get('/v1/consumers');
    await t.api.post('/v1/consumers', { name: '' }); // refused: no entry

    const entries = await log();
    const actions = entries.map((x) => x.action).reverse();
    expect(actions).toEqual([
      'tenant.create',
      'consumer.create',
      'endpoint.create',
      'endpoint.update',
      'endpoint.secret.read',
      'endpoint.secret.rotate',
      'api_key.create',
      'api_key.revoke',
    ]);
    const byAction = new Map(entries.map((x) => [x.action, x]));
    expect(byAction.get('tenant.create')).toMatchObject({ actor: 'operator', target: t.id });
    expect(byAction.get('consumer.create')).toMatchObject({ target: c, status: 201 });
    expect(byAction.get('endpoint.update')).toMatchObject({ target: `${c}/${e}`, status: 200 });
    expect(byAction.get('api_key.revoke')).toMatchObject({ target: k, status: 204 });
    for (const x of entries.filter((y) => y.action !== 'tenant.create')) {
      expect(x.actor).toMatch(/^key:key_/);
      expect(x.ip).toMatch(/127\.0\.0\.1/);
      expect(Date.parse(x.createdAt)).toBeGreaterThan(Date.now() - 60_000);
    }
  });

  it('records what Tramline changes itself: an endpoint disabled after 410', async () => {
    const c = (await t.api.post('/v1/consumers', { name: 'Gone' })).body.id as string;
    const e = (await t.api.post(`/v1/consumers/${c}/endpoints`, { url: `${rx.url}/gone` })).body.id as string;
    await t.api.post(`/v1/consumers/${c}/messages`, { eventType: 'a.b', payload: {} });
    for (let i = 0; i < 100 && !(await log()).some((x) => x.action === 'endpoint.disable'); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect((await log()).find((x) => x.action === 'endpoint.disable')).toMatchObject({ actor: 'system', target: e });
  });

  it('is the tenant’s own: another tenant sees none of it, and the runtime role cannot rewrite it', async () => {
    const other = await createTenant(gw, 'Other');
    const theirs = (await other.api.get('/v1/audit-log')).body.data as Entry[];
    expect(theirs.map((x) => x.action)).toEqual(['tenant.create']);
    const tampered = gw.testDb.db.tenant(t.id, (q) => q.query(`DELETE FROM audit_log`));
    await expect(tampered).rejects.toThrow(/permission denied/);
    const read = (
      await t.api.get('/v1/audit-log', { authorization: `Bearer ${(await t.api.post('/v1/api-keys', { scopes: ['read'] })).body.apiKey}` })
    ).status;
    expect(read).toBe(403); // admin only
  });
});
