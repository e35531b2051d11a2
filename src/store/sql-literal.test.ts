import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPglite } from './db.ts';
import { sqlLiteral } from './sql-literal.ts';

// PGlite runs named queries as EXECUTE with literal parameters: every value must come back exactly as sent.
let db: Awaited<ReturnType<typeof openPglite>>;
beforeAll(async () => {
  db = await openPglite({ dataDir: 'memory://' });
}, 30_000);
afterAll(async () => {
  await db?.close();
});

// No NUL: Postgres text cannot hold it (the API refuses it before it gets here).
const text = fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => !s.includes('\u0000'));
const tricky = fc.constantFrom('', 'NULL', 'null', '"', '\\', "'", "''", '\\"', '{', '}', ',', '{a,b}', ' spaced ', 'É€😀', "E'x'", '$1');

describe('sqlLiteral', () => {
  it('round-trips text, text arrays with NULLs, numbers and timestamps through a prepared statement', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(text, tricky),
        fc.array(fc.option(fc.oneof(text, tricky), { nil: null }), { maxLength: 6 }),
        fc.integer({ min: -2_000_000_000, max: 2_000_000_000 }),
        fc.array(fc.option(fc.integer(), { nil: null }), { maxLength: 4 }),
        fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }),
        async (s, arr, n, ints, d) => {
          const r = await db.owner((q) =>
            q.query<{ s: string; arr: (string | null)[]; n: number; ints: (number | null)[]; d: Date }>(
              'SELECT $1::text AS s, $2::text[] AS arr, $3::int AS n, $4::int[] AS ints, $5::timestamptz AS d',
              [s, arr, n, ints, d],
              'tramline_test_literal',
            ),
          );
          expect(r.rows[0]).toEqual({ s, arr, n, ints, d });
        },
      ),
      { numRuns: 300 },
    );
  }, 60_000);

  it('round-trips bytes as bytea', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), async (bytes) => {
        const r = await db.owner((q) => q.query<{ b: Uint8Array }>('SELECT $1::bytea AS b', [Buffer.from(bytes)], 'tramline_test_bytea'));
        expect([...r.rows[0]!.b]).toEqual([...bytes]);
      }),
      { numRuns: 100 },
    );
  });

  it('writes NULL bare and refuses what is not a finite number', () => {
    expect(sqlLiteral(null)).toBe('NULL');
    expect(sqlLiteral(undefined)).toBe('NULL');
    expect(() => sqlLiteral(Number.NaN)).toThrow(TypeError);
    expect(sqlLiteral("it's")).toBe("'it''s'");
  });
});
