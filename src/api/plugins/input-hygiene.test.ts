import { describe, expect, it } from 'vitest';
import { assertCleanInput, findBadInput } from './input-hygiene.ts';

describe('findBadInput', () => {
  it('accepts ordinary JSON', () => {
    expect(findBadInput({ a: ['x', 1, null, { b: 'ü 🚋' }] }, 'body')).toBeNull();
  });

  it('finds NUL and lone surrogates in values and keys, with their path', () => {
    expect(findBadInput({ a: [{ b: 'x\u0000' }] }, 'body')).toMatchObject({ field: 'body.a.0.b' });
    expect(findBadInput({ a: '\ud800' }, 'body')).toMatchObject({ field: 'body.a', message: expect.stringMatching(/surrogate/) });
    expect(findBadInput({ ['k\u0000']: 1 }, 'body')).toMatchObject({ message: expect.stringMatching(/^key/) });
  });

  it('refuses very deep nesting', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    expect(findBadInput(deep, 'body')?.message).toMatch(/nested/);
  });

  it('throws a validation error naming the field', () => {
    expect(() => assertCleanInput({ query: { q: '\u0000' } })).toThrow(/query.q/);
  });
});
