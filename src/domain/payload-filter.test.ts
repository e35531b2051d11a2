import { describe, expect, it } from 'vitest';
import { compileFilter, createFilterCache, MAX_FILTER_LENGTH } from './payload-filter.ts';

const ctx = {
  payload: { amount: 150, currency: 'EUR', items: [{ sku: 'A-1' }, { sku: 'B-2' }], customer: { tier: 'gold' } },
  eventType: 'invoice.paid',
  channels: ['eu'],
};
const run = (expr: string) => {
  const c = compileFilter(expr);
  if (!c.ok) throw new Error(c.problem.message);
  return c.filter(ctx);
};
const problem = (expr: string) => {
  const c = compileFilter(expr);
  if (c.ok) throw new Error(`accepted: ${expr}`);
  return c.problem;
};

describe('payload filters (CEL)', () => {
  it('matches on the payload, the event type and the channels', () => {
    expect(run('payload.amount > 100 && payload.currency == "EUR"')).toBe(true);
    expect(run('payload.amount > 1000')).toBe(false);
    expect(run('eventType.startsWith("invoice.") && "eu" in channels')).toBe(true);
    expect(run('payload.items.exists(i, i.sku.startsWith("B-"))')).toBe(true);
    expect(run('has(payload.customer.tier) && payload.customer.tier in ["gold", "platinum"]')).toBe(true);
  });

  it('does not match when evaluation fails (a missing key)', () => {
    expect(run('payload.missing == 1')).toBe(false);
    expect(run('!has(payload.missing)')).toBe(true);
  });

  it('reports a syntax error with its position', () => {
    expect(problem('payload.amount >')).toMatchObject({ offset: 16, line: 1, column: 17 });
    expect(problem('payload.a == 1 &&\n  payload.b ==')).toMatchObject({ line: 2, column: 15 });
  });

  it('refuses what is not a condition, type errors, and the unbounded', () => {
    expect(problem('1 + "a"').message).toMatch(/overload/);
    expect(problem('"x"').message).toBe('must be a condition (bool), not string');
    expect(problem('payload.currency.matches("E+")').message).toMatch(/matches/);
    expect(problem('payload.items.exists(i, payload.items.exists(j, j == i))').message).toMatch(/element variable|another/);
    expect(problem('payload.items.exists(i, i in payload.items)')).toMatchObject({ offset: 29 });
    expect(problem('x'.repeat(MAX_FILTER_LENGTH + 1)).message).toMatch(/longer than/);
    expect(
      problem(
        Array.from({ length: 150 }, (_, i) => `payload.a${i} == ${i}`)
          .join(' || ')
          .slice(0, 1000),
      ).message,
    ).toBeTruthy();
    expect(problem('  ').message).toMatch(/empty/);
  });

  it('caches compiled filters by their text', () => {
    const cache = createFilterCache(2);
    expect(cache.get('payload.amount > 100')(ctx)).toBe(true);
    expect(cache.get('payload.amount > 100')).toBe(cache.get('payload.amount > 100'));
    expect(cache.get('payload.amount >')(ctx)).toBe(false);
  });
});
