/**
 * What a payload filter and a schema check add to one publish, in µs, in process: the filter as the publisher
 * runs it (compiled once, cached by its text, evaluated on the parsed payload), and the schema check as the
 * publisher runs it (EventCatalog.check: the type's rules cached for a second, then read again from the database;
 * the schema compiled once per tenant, type and version), over an in-memory PGlite.
 *
 *   npx tsx bench/payload-control.ts [--iterations 200000]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { createEventCatalog } from '../src/domain/event-catalog.ts';
import { createFilterCache } from '../src/domain/payload-filter.ts';
import { openPglite } from '../src/store/db.ts';
import { insertEventType, setSchema } from '../src/store/event-types.ts';
import { newId } from '../src/store/ids.ts';
import { migrate } from '../src/store/migrate.ts';
import { insertTenant } from '../src/store/tenants.ts';

const { values: args } = parseArgs({ options: { iterations: { type: 'string', default: '200000' } } });
const n = Number(args.iterations);

// A realistic invoice: ~1 KiB of JSON with ten lines.
const payload = {
  invoiceId: 'inv_01kb2x3y4z5a6b7c8d9e0f1g2h',
  amount: 4200,
  currency: 'EUR',
  customer: { id: 'cus_42', email: 'billing@example.com', tier: 'gold' },
  lines: Array.from({ length: 10 }, (_, i) => ({ sku: `SKU-${i}`, quantity: i + 1, unitPrice: 420 })),
};
const schema = {
  type: 'object',
  required: ['invoiceId', 'amount', 'currency', 'lines'],
  properties: {
    invoiceId: { type: 'string', minLength: 1 },
    amount: { type: 'integer', minimum: 0 },
    currency: { enum: ['EUR', 'USD', 'GBP'] },
    customer: { type: 'object', properties: { email: { type: 'string', format: 'email' }, tier: { type: 'string' } } },
    lines: {
      type: 'array',
      items: {
        type: 'object',
        required: ['sku', 'quantity'],
        properties: { sku: { type: 'string' }, quantity: { type: 'integer', minimum: 1 } },
      },
    },
  },
};

async function perCallMicros(fn: () => unknown | Promise<unknown>, iterations: number): Promise<number> {
  for (let i = 0; i < Math.min(10_000, iterations / 10); i++) await fn(); // warm-up: JIT, caches
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await fn();
  return Number(process.hrtime.bigint() - t0) / 1000 / iterations;
}

const filters = createFilterCache();
const ctx = { payload, eventType: 'invoice.paid', channels: ['eu'] };
const FILTERS = [
  'payload.amount > 1000 && payload.currency == "EUR"',
  'has(payload.customer.tier) && payload.customer.tier in ["gold", "platinum"]',
  'payload.lines.exists(l, l.sku.startsWith("SKU-9") && l.quantity > 5)',
];
const noop = await perCallMicros(() => undefined, n);
const rows: Array<[string, number]> = [];
for (const f of FILTERS) rows.push([`filter  ${f}`, (await perCallMicros(() => filters.get(f)(ctx), n)) - noop]);

const db = await openPglite({ dataDir: 'memory://' });
try {
  await migrate(db);
  const tenantId = newId('ten');
  await db.system((q) => insertTenant(q, { id: tenantId, name: 'bench' }));
  await db.tenant(tenantId, async (q) => {
    await insertEventType(q, tenantId, { name: 'invoice.paid', description: '', schema: undefined });
    await setSchema(q, tenantId, 'invoice.paid', schema, { breaking: false, reasons: [] });
  });
  const catalog = createEventCatalog(db);
  rows.push([
    'schema  EventCatalog.check (rules cached 1 s, then re-read)',
    (await perCallMicros(() => catalog.check(tenantId, 'invoice.paid', payload), n)) - noop,
  ]);
} finally {
  await db.close();
}

console.log(
  `payload control per publish (${n} iterations each, node ${process.version}, load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')})`,
);
for (const [what, us] of rows) console.log(`  ${us.toFixed(2).padStart(7)} µs  ${what}`);
