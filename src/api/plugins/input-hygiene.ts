import { AppError, type FieldError } from '../../errors.ts';

const MAX_DEPTH = 64;

/**
 * Postgres refuses NUL in text and lone UTF-16 surrogates cannot be encoded as UTF-8; rather
 * than a 500 from the database (or a silently altered payload), such input is refused up
 * front with the path of the offending field. Deeply nested bodies are refused too.
 */
export function findBadInput(value: unknown, path: string, depth = 0): FieldError | null {
  if (typeof value === 'string') return badString(value, path);
  if (value === null || typeof value !== 'object') return null;
  if (depth > MAX_DEPTH) return { field: path, message: `nested deeper than ${MAX_DEPTH} levels` };
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = findBadInput(value[i], `${path}.${i}`, depth + 1);
      if (bad) return bad;
    }
    return null;
  }
  for (const [k, v] of Object.entries(value)) {
    const badKey = badString(k, `${path}.${k}`);
    if (badKey) return { ...badKey, message: `key ${badKey.message}` };
    const bad = findBadInput(v, `${path}.${k}`, depth + 1);
    if (bad) return bad;
  }
  return null;
}

function badString(s: string, path: string): FieldError | null {
  if (s.includes('\u0000')) return { field: path, message: 'contains a NUL character (\\u0000)' };
  if (!s.isWellFormed()) return { field: path, message: 'contains a lone UTF-16 surrogate' };
  return null;
}

export function assertCleanInput(parts: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(parts)) {
    const bad = findBadInput(value, name);
    if (bad) throw new AppError('VALIDATION', `${bad.field} ${bad.message}`, { errors: [bad] });
  }
}
