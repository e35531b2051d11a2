import { describe, expect, it } from 'vitest';
import { createClosers, withClosers } from './closers.ts';

describe('closers', () => {
  it('unwinds last-opened-first, once, and runs every closer even when one throws', async () => {
    const closed: string[] = [];
    const errors: string[] = [];
    const c = createClosers((name) => errors.push(name));
    c.push('db', () => closed.push('db'));
    c.push('worker', async () => {
      closed.push('worker');
      throw new Error('stuck');
    });
    c.push('api', () => closed.push('api'));
    await expect(c.unwind()).rejects.toThrow('stuck');
    await expect(c.unwind()).rejects.toThrow('stuck');
    expect(closed).toEqual(['api', 'worker', 'db']);
    expect(errors).toEqual(['worker']);
    expect(() => c.push('late', () => {})).toThrow(/closing/);
  });

  it('tells a closer whether the start failed, and withClosers unwinds on failure', async () => {
    const seen: boolean[] = [];
    await expect(
      withClosers(async (c) => {
        c.push('x', ({ failed }) => seen.push(failed));
        throw new Error('listen failed');
      }),
    ).rejects.toThrow('listen failed');
    expect(seen).toEqual([true]);
    expect(
      await withClosers(async (c) => {
        c.push('y', ({ failed }) => seen.push(failed));
        return 42;
      }),
    ).toBe(42);
    expect(seen).toEqual([true, false]);
  });
});
