/**
 * Whether an error means the database cannot be reached right now, rather than that a statement was
 * wrong: the caller should be told to retry (503 with Retry-After), not that the server failed (500).
 * Node's socket errors, node-postgres' own connection messages, and the SQLSTATE classes for a lost
 * connection (08…), an operator intervention (57P01 admin shutdown, 57P02 crash shutdown, 57P03
 * cannot connect now) and too many connections (53300).
 */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const PG_MESSAGES = [
  /^Connection terminated/,
  /timeout exceeded when trying to connect/,
  /Client has encountered a connection error/,
  /^Connection ended unexpectedly/,
];

/**
 * Whether the database could not write because its storage is full (SQLSTATE 53100 disk_full; the embedded
 * database reports the same): a retry works once space returns, so the client is told 503, not 500.
 */
export function isStorageFull(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return (err as { code?: unknown }).code === '53100' || /No space left on device/.test(err.message);
}

export const STORAGE_FULL_DETAIL = "The database's storage is full; retry later";

export function isDatabaseUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (SOCKET_CODES.has(code)) return true;
    if (/^08[0-9A-Z]{3}$/.test(code) || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300') return true;
  }
  if (PG_MESSAGES.some((re) => re.test(err.message))) return true;
  return err instanceof AggregateError && err.errors.some(isDatabaseUnavailable);
}
