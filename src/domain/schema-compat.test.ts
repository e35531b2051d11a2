import { describe, expect, it } from 'vitest';
import { compareSchemas } from './schema-compat.ts';

const base = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string' }, amount: { type: 'integer', minimum: 0 }, status: { enum: ['open', 'paid'] } },
};

describe('schema compatibility', () => {
  it('calls the first schema, an unchanged one and an added optional property non-breaking', () => {
    expect(compareSchemas(null, base)).toEqual({ breaking: false, reasons: [] });
    expect(compareSchemas(base, structuredClone(base))).toEqual({ breaking: false, reasons: [] });
    expect(compareSchemas(base, { ...base, properties: { ...base.properties, note: { type: 'string' } } })).toEqual({
      breaking: false,
      reasons: [],
    });
    expect(compareSchemas(base, { ...base, properties: { ...base.properties, amount: { type: 'integer', minimum: -10 } } }).breaking).toBe(
      false,
    );
  });

  it('reports what the new version refuses that the old accepted', () => {
    const r = compareSchemas(base, {
      ...base,
      required: ['id', 'amount'],
      additionalProperties: false,
      properties: { id: { type: 'integer' }, amount: { type: 'integer', minimum: 1 }, status: { enum: ['open'] } },
    });
    expect(r.breaking).toBe(true);
    expect(r.reasons).toEqual(
      expect.arrayContaining([
        'amount: now required',
        'the payload: additional properties now refused',
        'id: type narrowed to integer',
        'amount: minimum raised to 1',
        'status: enum values removed: "paid"',
      ]),
    );
  });

  it('reports what consumers relied on that is gone', () => {
    const r = compareSchemas(base, {
      ...base,
      required: [],
      properties: { ...base.properties, id: { type: ['string', 'null'] }, status: { enum: ['open', 'paid', 'void'] } },
    });
    expect(r.reasons).toEqual(
      expect.arrayContaining([
        'id: no longer required (consumers may not receive it)',
        'id: type widened to string | null',
        'status: enum values added (consumers may not know them): "void"',
      ]),
    );
  });

  it('compares array items and says when it cannot compare', () => {
    const list = { type: 'array', items: { type: 'object', properties: { sku: { type: 'string' } } } };
    expect(
      compareSchemas(list, { type: 'array', items: { type: 'object', required: ['sku'], properties: { sku: { type: 'string' } } } })
        .reasons,
    ).toEqual(['[].sku: now required']);
    expect(compareSchemas(base, { ...base, allOf: [{ required: ['x'] }] }).reasons).toEqual([
      'the payload: allOf changed (not compared: possibly breaking)',
    ]);
  });
});
