import type { Results, Transaction } from '@electric-sql/pglite';
import { executeText, sqlLiteral } from './sql-literal.ts';

/** One transaction's statements, as PGlite runs them. */
export interface PgliteTxStatements {
  query(text: string, values?: readonly unknown[], name?: string): Promise<{ rows: unknown[]; rowCount: number }>;
  exec(text: string): Promise<void>;
}

/**
 * How PGlite runs a transaction's statements, in the process (store/db.ts openPglite) and on the database's own
 * thread (store/pglite-worker.ts) alike.
 *
 * Named (hot) queries are prepared once on the session: planning them is most of their cost in WASM (a claim: 3.6 ms
 * planned each time, 1.0 ms prepared). PGlite's query() has no named statements, so they run as EXECUTE with the
 * parameters as escaped literals, over the simple protocol: one message into the database, where query() takes
 * five (parse, describe, bind, execute, sync). The role switch (and the claim's SET LOCAL) travels in the same
 * message as the transaction's first statement, as it does on a Postgres server (store/db.ts). PREPARE is not
 * transactional: a statement prepared in a transaction that rolls back stays prepared.
 */
export function pgliteStatements(): {
  open(tx: Transaction, preamble: string | null, params: readonly unknown[], noSort: boolean): PgliteTxStatements;
} {
  const prepared = new Set<string>();
  return {
    open(tx, preamble, params, noSort) {
      // What must run before the transaction's first statement, sent with it.
      let prefix = [noSort ? 'SET LOCAL enable_sort = off' : null, preamble ? inline(preamble, params) : null]
        .filter((s) => s !== null)
        .join('; ');
      const withPrefix = (text: string): string => {
        const s = prefix ? `${prefix}; ${text}` : text;
        prefix = '';
        return s;
      };
      return {
        async query(text, values, name) {
          if (name) {
            if (!prepared.has(name)) {
              await tx.exec(`PREPARE ${name} AS ${text}`);
              prepared.add(name);
            }
            return answer(lastOf(await tx.exec(withPrefix(executeText(name, values)))));
          }
          if (prefix) await tx.exec(withPrefix(''));
          return answer(await tx.query(text, values as unknown[] | undefined));
        },
        async exec(text) {
          await tx.exec(withPrefix(text));
        },
      };
    },
  };
}

/** Rows, and how many rows the statement touched (an UPDATE without RETURNING has no rows to count). */
function answer(r: Results): { rows: unknown[]; rowCount: number } {
  return { rows: r.rows, rowCount: Math.max(r.affectedRows ?? 0, r.rows.length) };
}

/** A multi-statement message answers each statement: the caller's is the last. */
function lastOf(results: Results[]): Results {
  const r = results[results.length - 1];
  if (!r) throw new Error('the database answered no result');
  return r;
}

/** Our own preamble's $n placeholders as literals, so it can travel in one simple-protocol message. */
function inline(text: string, params: readonly unknown[]): string {
  return text.replace(/\$(\d+)/g, (_, n: string) => sqlLiteral(params[Number(n) - 1]));
}
