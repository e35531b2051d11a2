import type { Transaction } from '@electric-sql/pglite';
import { executeText } from './sql-literal.ts';

/**
 * How PGlite runs a transaction's statements, in the process (store/db.ts openPglite) and on the database's own
 * thread (store/pglite-worker.ts) alike.
 *
 * Named (hot) queries are prepared once on the session: planning them is most of their cost in WASM (a claim: 3.6 ms
 * planned each time, 1.0 ms prepared). PGlite's query() has no named statements, so they run as EXECUTE with the
 * parameters as escaped literals. PREPARE is not transactional: a statement prepared in a transaction that rolls
 * back stays prepared.
 */
export function pgliteStatements(): {
  begin(tx: Transaction, preamble: string | null, params: readonly unknown[], noSort: boolean): Promise<void>;
  query(tx: Transaction, text: string, values?: readonly unknown[], name?: string): Promise<{ rows: unknown[]; rowCount: number }>;
} {
  const prepared = new Set<string>();
  return {
    async begin(tx, preamble, params, noSort) {
      if (noSort) await tx.exec(`SET LOCAL enable_sort = off; ${preamble}`);
      else if (preamble) await tx.query(preamble, params as unknown[]);
    },
    async query(tx, text, values, name) {
      let r: Awaited<ReturnType<Transaction['query']>>;
      if (name) {
        if (!prepared.has(name)) {
          await tx.exec(`PREPARE ${name} AS ${text}`);
          prepared.add(name);
        }
        r = await tx.query(executeText(name, values));
      } else {
        r = await tx.query(text, values as unknown[] | undefined);
      }
      return { rows: r.rows, rowCount: Math.max(r.affectedRows ?? 0, r.rows.length) };
    },
  };
}
