import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ENV, createTenant, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { expectRateLimited, hit } from '../helpers/limits.ts';
import { killAll, runTramline, waitUntil } from '../helpers/process.ts';

/**
 * Issue 12: a default never caps a tenant below what the gateway carries; limits are the operator's
 * choice, per tenant, as a plan (`rateLimitPerSecond`).
 */
describe('tenant plans: API request limits per tenant, set by the operator', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    // Defaults for the limits themselves; a 10 s window so a plan of 1/s is 10 requests per window.
    gw = await startTestGateway({ env: { TRAMLINE_RATE_LIMIT_WINDOW: '10s', REDIS_URL: '' } });
  });
  afterAll(async () => {
    await killAll();
    await gw?.stop();
  });

  it('limits nothing by default: a key sends past the old default of 1,000 per window and gets no 429', async () => {
    const t = await createTenant(gw, 'Busy');
    const statuses = await Promise.all(Array.from({ length: 1_050 }, () => t.api.get('/v1/event-types').then((r) => r.status)));
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const r = await t.api.get('/v1/event-types');
    expect(r.headers.get('x-ratelimit-limit')).toBeNull();
  });

  it('applies a plan the operator sets, audits it, and lifts it again; a tenant cannot change its own', async () => {
    const t = await createTenant(gw, 'Planned');
    const set = await gw.operator.patch(`/v1/tenants/${t.id}`, { rateLimitPerSecond: 1 });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ id: t.id, name: 'Planned', rateLimitPerSecond: 1 });

    // The plan applies within PLAN_TTL_MS (this replica read "no plan" when the tenant was created).
    await waitUntil(async () => (await t.api.get('/v1/event-types')).headers.get('x-ratelimit-limit') === '10', 15_000, 'plan applied');
    let refused = null;
    for (let i = 0; i < 12 && !refused; i++) {
      const r = await t.api.get('/v1/event-types');
      if (r.status === 429) refused = r;
    }
    expect(refused, 'a request over the plan').not.toBeNull();
    expectRateLimited(refused!, 'tenant', 10);
    expect(refused!.body.limit).toBe(10);

    // Another tenant has no plan and is not limited.
    const other = await createTenant(gw, 'Other');
    expect(await hit(other.api, 15)).toEqual(Array(15).fill(200));

    // A tenant's own admin key cannot change its plan: the route takes the operator token only.
    expect((await t.api.patch(`/v1/tenants/${t.id}`, { rateLimitPerSecond: 1_000_000 })).status).toBe(401);
    // Nor can its database role, whatever a route would try.
    await expect(
      gw.testDb.db.tenant(t.id, (q) => q.query('UPDATE tenants SET rate_limit_per_second = 1000000 WHERE id = $1', [t.id])),
    ).rejects.toThrow(/permission denied/);

    const lifted = await gw.operator.patch(`/v1/tenants/${t.id}`, { rateLimitPerSecond: null });
    expect(lifted.body.rateLimitPerSecond).toBeNull();
    await waitUntil(async () => (await t.api.get('/v1/event-types')).status === 200, 20_000, 'plan lifted');
    // Both changes are in the tenant's own audit log, by the operator (written just after each answer).
    const updates = await waitUntil(
      async () => {
        const log = await t.api.get('/v1/audit-log');
        const found = (log.body.data as { action: string; actor: string }[]).filter((e) => e.action === 'tenant.update');
        return found.length === 2 && found;
      },
      10_000,
      'two tenant.update entries',
    );
    expect(updates.map((e) => e.actor)).toEqual(['operator', 'operator']);
  }, 60_000);

  it('answers a bad plan with a 400 naming the field, and an unknown tenant with 404', async () => {
    const t = await createTenant(gw, 'Typo');
    const bad = await gw.operator.patch(`/v1/tenants/${t.id}`, { rateLimitPerSecond: 0 });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.errors)).toContain('body.rateLimitPerSecond');
    expect((await gw.operator.patch('/v1/tenants/ten_01jz0000000000000000000000', { name: 'x' })).status).toBe(404);
  });
  it('is set from the CLI: `tramline tenants limit`, and a limit that is not a number is refused before anything is sent', async () => {
    const bad = await runTramline(['tenants', 'limit', 'ten_x', 'lots'], { ...TEST_ENV, TRAMLINE_DATA_DIR: '/nonexistent' });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('Invalid limit "lots"');
    // The CLI writes to the database directly; an embedded database here is this process's own, in memory.
    if (!gw.testDb.url) return;
    const t = await createTenant(gw, 'ByCli');
    const set = await runTramline(['tenants', 'limit', t.id, '250'], { ...TEST_ENV, DATABASE_URL: gw.testDb.url });
    expect(set.stdout).toContain(`Tenant ${t.id} (ByCli): 250 requests/s`);
    const listed = await gw.operator.get('/v1/tenants?limit=250');
    expect(listed.body.data.find((x: { id: string }) => x.id === t.id).rateLimitPerSecond).toBe(250);
  }, 60_000);
});
