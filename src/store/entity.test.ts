import { describe, expect, it } from 'vitest';
import { col, entity, type Row } from './entity.ts';

describe('entity', () => {
  const thing = entity({ id: col<string>('id'), consumerId: col<string>('consumer_id'), createdAt: col<Date>('created_at') });

  it('derives the select list from the declaration, aliasing columns to fields', () => {
    expect(thing.columns).toBe('id, consumer_id AS "consumerId", created_at AS "createdAt"');
    expect(thing.columnsOf('t')).toBe('t.id, t.consumer_id AS "consumerId", t.created_at AS "createdAt"');
  });

  it('derives the type', () => {
    const x: Row<typeof thing> = { id: 'a', consumerId: 'b', createdAt: new Date(0) };
    expect(Object.keys(x)).toEqual(Object.keys(thing.fields));
  });
});
