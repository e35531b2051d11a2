/** Cursor pagination over time-sortable ids: the cursor is the last id of the previous page. */
export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export interface PageQuery {
  limit: number;
  cursor?: string | undefined;
}

/**
 * Rows were fetched with `LIMIT limit + 1`: the extra row only says whether there is a next page.
 * Rows selected with an entity's column list are already in the entity's shape (see entity.ts); `map`
 * is for rows that are not.
 */
export function toPage<R>(rows: R[], limit: number, keyOf: (r: R) => string): Page<R>;
export function toPage<R, T>(rows: R[], limit: number, keyOf: (r: R) => string, map: (r: R) => T): Page<T>;
export function toPage<R, T>(rows: R[], limit: number, keyOf: (r: R) => string, map?: (r: R) => T): Page<R | T> {
  const more = rows.length > limit;
  const slice = more ? rows.slice(0, limit) : rows;
  return { data: map ? slice.map(map) : slice, nextCursor: more && slice.length > 0 ? keyOf(slice[slice.length - 1]!) : null };
}
