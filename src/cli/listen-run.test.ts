import { describe, expect, it } from 'vitest';
import { samplePayload } from './listen-run.ts';

describe('samplePayload (tramline trigger)', () => {
  it("uses the catalog's example when the event type's schema has one", () => {
    const schema = { type: 'object', examples: [{ invoice: 'inv_1', amount: 4200 }] };
    expect(samplePayload('invoice.paid', { name: 'invoice.paid', schema })).toEqual({ invoice: 'inv_1', amount: 4200 });
    expect(samplePayload('x', { name: 'x', schema: { example: { a: 1 } } })).toEqual({ a: 1 });
  });

  it('builds a value that fits the schema when there is no example', () => {
    const schema = {
      type: 'object',
      properties: {
        id: { type: 'string' },
        amount: { type: 'integer', minimum: 1 },
        currency: { enum: ['EUR', 'USD'] },
        paidAt: { type: 'string', format: 'date-time' },
        lines: { type: 'array', items: { type: 'object', properties: { sku: { type: 'string', default: 'SKU-1' } } } },
        note: { type: ['null', 'boolean'] },
      },
    };
    const v = samplePayload('invoice.paid', { name: 'invoice.paid', schema }) as Record<string, unknown>;
    expect(v).toMatchObject({ id: 'string', amount: 1, currency: 'EUR', lines: [{ sku: 'SKU-1' }], note: true });
    expect(new Date(v.paidAt as string).toISOString()).toBe(v.paidAt);
  });

  it('falls back to a small generic sample for an event type not in the catalog', () => {
    expect(samplePayload('invoice.paid', undefined)).toMatchObject({
      sample: true,
      eventType: 'invoice.paid',
      id: expect.stringMatching(/^invoice_/),
    });
  });
});
