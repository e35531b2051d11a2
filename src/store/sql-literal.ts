/** A prepared statement's EXECUTE, its parameters as literals. */
export function executeText(name: string, values: readonly unknown[] | undefined): string {
  return values && values.length > 0 ? `EXECUTE ${name}(${values.map(sqlLiteral).join(', ')})` : `EXECUTE ${name}`;
}

/** A parameter as an SQL literal (named statements' EXECUTE); typed by the statement's own parameter casts. */
export function sqlLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError(`not a finite number: ${v}`);
    return String(v);
  }
  if (typeof v === 'bigint') return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Date) return quote(v.toISOString());
  // bytea in hex input form (as node-postgres sends a Buffer); not its JSON as any other object would be.
  if (v instanceof Uint8Array) return quote(`\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`);
  if (Array.isArray(v)) return quote(arrayLiteral(v));
  if (typeof v === 'object') return quote(JSON.stringify(v));
  return quote(String(v));
}

/**
 * A string literal, as pg.escapeLiteral writes it (E'' where a backslash is doubled), in one regex pass instead of
 * a concatenation per character: payloads and attempt batches travel this way on every hot statement.
 */
function quote(s: string): string {
  const body = s.replace(/['\\]/g, '$&$&');
  return s.includes('\\') ? ` E'${body}'` : `'${body}'`;
}

/** Postgres array input syntax: every element quoted (backslash and quote escaped), NULL bare. */
function arrayLiteral(a: readonly unknown[]): string {
  const element = (x: unknown): string =>
    x === null || x === undefined
      ? 'NULL'
      : Array.isArray(x)
        ? arrayLiteral(x)
        : `"${String(x instanceof Date ? x.toISOString() : x).replace(/[\\"]/g, '\\$&')}"`;
  return `{${a.map(element).join(',')}}`;
}
