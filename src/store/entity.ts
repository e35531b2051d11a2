/**
 * Each entity is declared once, as its row mapping: every field with its SQL column and its TypeScript type.
 * The entity's type and its select list both derive from that one declaration. The select list aliases each
 * column to its field (`consumer_id AS "consumerId"`), so Postgres hands rows back already in the entity's
 * shape: there is no mapper to keep in step with the column list, and no object is copied per row.
 *
 * Decision: not a query builder (Kysely). The SQL stays as written (the hot statements are hand-tuned and
 * prepared), and what was repeated four times per entity (interface, row interface, column list, mapper)
 * is now written once.
 */
export interface Column<T> {
  /** The column's SQL name (or expression). */
  readonly sql: string;
  /** Type only: never set. */
  readonly type?: T;
}

/** A column whose values arrive as `T` (node-postgres' and PGlite's parsing: timestamptz → Date, jsonb → parsed). */
export const col = <T>(sql: string): Column<T> => ({ sql });

export type Fields = Record<string, Column<unknown>>;

export interface Entity<F extends Fields> {
  readonly fields: F;
  /** The select list: `id, consumer_id AS "consumerId", …` */
  readonly columns: string;
  /** The select list with each column qualified by a table alias: `e.id, e.consumer_id AS "consumerId", …` */
  columnsOf(alias: string): string;
}

/** The TypeScript type an entity declaration describes. */
export type Row<E> = E extends Entity<infer F> ? { -readonly [K in keyof F]: F[K] extends Column<infer T> ? T : never } : never;

export function entity<const F extends Fields>(fields: F): Entity<F> {
  const list = (alias: string | null): string =>
    Object.entries(fields)
      .map(([field, c]) => {
        const sql = alias ? `${alias}.${c.sql}` : c.sql;
        return field === c.sql ? sql : `${sql} AS "${field}"`;
      })
      .join(', ');
  return { fields, columns: list(null), columnsOf: (alias) => list(alias) };
}
