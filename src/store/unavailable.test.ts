import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable, isStorageFull } from './unavailable.ts';

const pgError = (code: string, message: string): Error => Object.assign(new Error(message), { code });

describe('a full disk', () => {
  it('is recognised by its SQLSTATE (Postgres) and by the message PGlite carries', () => {
    expect(isStorageFull(pgError('53100', 'could not extend file "base/5/16540": No space left on device'))).toBe(true);
    expect(isStorageFull(new Error('could not write to file "pg_wal/xlogtemp.1": No space left on device'))).toBe(true);
  });
  it('is not mistaken for another failure, nor for a lost connection', () => {
    expect(isStorageFull(pgError('23505', 'duplicate key value violates unique constraint'))).toBe(false);
    expect(isStorageFull('No space left on device')).toBe(false);
    expect(isDatabaseUnavailable(pgError('53100', 'No space left on device'))).toBe(false);
  });
});
