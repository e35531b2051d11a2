/**
 * Is a new version of an event type's schema a breaking change? Kept honest and simple: it compares the
 * two documents keyword by keyword along `properties` and `items` (no `$ref`, `allOf`, `if`… resolution),
 * and reports, with a reason each:
 * - what the new version refuses that the old one accepted (publishers' existing payloads break): a property
 *   newly required, a type narrowed, enum values removed or an enum added, `additionalProperties: false` added,
 *   a bound tightened (minimum, maximum, minLength, maxLength, minItems, maxItems);
 * - what consumers relied on that is gone: a required property no longer required, a type widened, enum values added.
 * Adding an optional property, loosening a bound or documenting more is not breaking. Anything the comparison
 * does not understand (composition keywords changed) is reported as possibly breaking.
 */
export interface Compatibility {
  breaking: boolean;
  reasons: string[];
}

type Schema = Record<string, unknown>;
const asSchema = (v: unknown): Schema | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Schema) : null);
const typesOf = (s: Schema): Set<string> | null => {
  const t = s.type;
  if (typeof t === 'string') return new Set(t === 'number' ? ['number', 'integer'] : [t]);
  if (Array.isArray(t)) return new Set(t.flatMap((x) => (x === 'number' ? ['number', 'integer'] : [String(x)])));
  return null; // any type
};
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
const COMPOSITION = ['allOf', 'anyOf', 'oneOf', 'not', 'if', 'then', 'else', '$ref', 'const'] as const;
const LOWER_BOUNDS = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties'] as const;
const UPPER_BOUNDS = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties'] as const;

function compare(oldS: Schema, newS: Schema, at: string, reasons: string[]): void {
  const where = at === '' ? 'the payload' : at;
  const ot = typesOf(oldS);
  const nt = typesOf(newS);
  if (nt && (!ot || [...ot].some((t) => !nt.has(t)))) reasons.push(`${where}: type narrowed to ${[...nt].join(' | ')}`);
  if (ot && (!nt || [...nt].some((t) => !ot.has(t)))) reasons.push(`${where}: type widened to ${nt ? [...nt].join(' | ') : 'any'}`);

  if (Array.isArray(newS.enum)) {
    const before = Array.isArray(oldS.enum) ? oldS.enum.map((x) => JSON.stringify(x)) : null;
    const after = new Set(newS.enum.map((x) => JSON.stringify(x)));
    if (!before) reasons.push(`${where}: restricted to an enum`);
    else {
      const removed = before.filter((x) => !after.has(x));
      const added = [...after].filter((x) => !before.includes(x));
      if (removed.length) reasons.push(`${where}: enum values removed: ${removed.join(', ')}`);
      if (added.length) reasons.push(`${where}: enum values added (consumers may not know them): ${added.join(', ')}`);
    }
  }
  for (const k of LOWER_BOUNDS) {
    const o = oldS[k];
    const n = newS[k];
    if (typeof n === 'number' && (typeof o !== 'number' || n > o)) reasons.push(`${where}: ${k} raised to ${n}`);
  }
  for (const k of UPPER_BOUNDS) {
    const o = oldS[k];
    const n = newS[k];
    if (typeof n === 'number' && (typeof o !== 'number' || n < o)) reasons.push(`${where}: ${k} lowered to ${n}`);
  }
  for (const k of COMPOSITION) {
    if (JSON.stringify(oldS[k]) !== JSON.stringify(newS[k])) reasons.push(`${where}: ${k} changed (not compared: possibly breaking)`);
  }
  if (newS.additionalProperties === false && oldS.additionalProperties !== false)
    reasons.push(`${where}: additional properties now refused`);

  const oldReq = new Set(strings(oldS.required));
  const newReq = new Set(strings(newS.required));
  for (const r of newReq) if (!oldReq.has(r)) reasons.push(`${join(at, r)}: now required`);
  for (const r of oldReq) if (!newReq.has(r)) reasons.push(`${join(at, r)}: no longer required (consumers may not receive it)`);

  const oldProps = asSchema(oldS.properties) ?? {};
  const newProps = asSchema(newS.properties) ?? {};
  for (const [name, o] of Object.entries(oldProps)) {
    const n = asSchema(newProps[name]);
    const os = asSchema(o);
    if (n && os) compare(os, n, join(at, name), reasons);
  }
  const oi = asSchema(oldS.items);
  const ni = asSchema(newS.items);
  if (oi && ni) compare(oi, ni, `${at}[]`, reasons);
  else if (ni && !oi && oldS.items === undefined) reasons.push(`${where}: items now constrained`);
}

const join = (at: string, name: string): string => (at === '' ? name : `${at}.${name}`);

/** The first schema of a type (no previous one) is never breaking; removing the schema is not either. */
export function compareSchemas(previous: unknown, next: unknown): Compatibility {
  const o = asSchema(previous);
  const n = asSchema(next);
  if (!o || !n) return { breaking: false, reasons: [] };
  const reasons: string[] = [];
  compare(o, n, '', reasons);
  return { breaking: reasons.length > 0, reasons };
}
