import { describe, expect, it } from 'vitest';
import { createOutboundCap } from './outbound-cap.ts';

const batch = (tenant: string, n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ id: `${tenant}-${from + i}`, tenantId: tenant }));

describe('outbound cap', () => {
  it('sends up to the bucket and spreads the rest over the following slots', () => {
    const cap = createOutboundCap(5); // capacity 1, one token every 200 ms
    const r = cap.split(batch('a', 6), 0);
    expect(r.send.map((d) => d.id)).toEqual(['a-0']);
    expect(r.later.map((x) => x.delayMs)).toEqual([200, 400, 600, 800, 1000]);
  });

  it('keeps tenants apart', () => {
    const cap = createOutboundCap(5);
    const r = cap.split([...batch('a', 3), ...batch('b', 2)], 0);
    expect(r.send.map((d) => d.id)).toEqual(['a-0', 'b-0']);
    expect(r.later.map((x) => x.id)).toEqual(['a-1', 'a-2', 'b-1']);
  });

  it('lets a postponed delivery through when it comes due', () => {
    const cap = createOutboundCap(5);
    const first = cap.split(batch('a', 2), 1000);
    expect(first.later).toEqual([{ id: 'a-1', delayMs: 200 }]);
    expect(cap.split(batch('a', 1, 1), 1000 + 200).send).toHaveLength(1);
  });

  it('allows a tenth of a second of burst at high rates', () => {
    const cap = createOutboundCap(500);
    expect(cap.split(batch('a', 80), 0).send).toHaveLength(50);
  });
});
