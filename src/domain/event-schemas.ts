import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { FieldError } from '../errors.ts';

/**
 * JSON Schema (2020-12) for event types: checked when saved, compiled once per tenant, type and version,
 * and applied to every publish of that type. ajv compiles a schema to a function; the compiled ones are
 * kept (bounded, oldest out first) so a publish costs one call.
 */
// ajv-formats is CommonJS: under NodeNext its default import is the module object or the function.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv2020) => void;

/** A schema larger than this (as JSON) is refused when saved. */
export const MAX_SCHEMA_BYTES = 64 * 1024;
/** Validation errors reported per publish; ajv stops collecting beyond what we show. */
const MAX_ERRORS = 20;

// `(a+)+` and its kind backtrack exponentially on a long string; ajv runs patterns with JavaScript's engine.
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*[+*](?:[^()\\]|\\.)*\)\s*(?:[+*]|\{\d+,\d*\})/;

function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: false, validateSchema: true });
  addFormats(ajv);
  return ajv;
}

export type SchemaCheck = { ok: true; validate: ValidateFunction } | { ok: false; errors: FieldError[] };

/** Patterns that can backtrack without end, anywhere in the schema. */
function riskyPatterns(schema: unknown, path: string, out: FieldError[]): void {
  if (Array.isArray(schema)) schema.forEach((s, i) => riskyPatterns(s, `${path}.${i}`, out));
  else if (schema && typeof schema === 'object') {
    for (const [k, v] of Object.entries(schema)) {
      if (k === 'pattern' && typeof v === 'string' && NESTED_QUANTIFIER.test(v))
        out.push({
          field: `${path}.pattern`,
          message: 'a quantified group containing a quantifier can take exponential time; simplify it',
        });
      if (k === 'patternProperties' && v && typeof v === 'object')
        for (const p of Object.keys(v))
          if (NESTED_QUANTIFIER.test(p))
            out.push({ field: `${path}.patternProperties`, message: `"${p}": a quantified group containing a quantifier; simplify it` });
      riskyPatterns(v, `${path}.${k}`, out);
    }
  }
}

/** Validates a schema as a 2020-12 document and compiles it; problems name `body.schema…`. */
export function compileSchema(schema: unknown): SchemaCheck {
  if (JSON.stringify(schema).length > MAX_SCHEMA_BYTES)
    return { ok: false, errors: [{ field: 'body.schema', message: `larger than ${MAX_SCHEMA_BYTES} bytes` }] };
  const risky: FieldError[] = [];
  riskyPatterns(schema, 'body.schema', risky);
  if (risky.length > 0) return { ok: false, errors: risky };
  const ajv = newAjv();
  try {
    if (!ajv.validateSchema(schema as object)) return { ok: false, errors: toFieldErrors(ajv.errors ?? [], 'body.schema') };
    return { ok: true, validate: ajv.compile(schema as object) };
  } catch (err) {
    return { ok: false, errors: [{ field: 'body.schema', message: (err as Error).message }] };
  }
}

/** `/items/0` → `.items.0` (JSON pointer unescaped), under `prefix`. */
const fieldOf = (prefix: string, pointer: string): string =>
  prefix +
  pointer
    .split('/')
    .slice(1)
    .map((p) => `.${p.replace(/~1/g, '/').replace(/~0/g, '~')}`)
    .join('');

/** One entry per error: where (the field, the offending property for required/additionalProperties) and why. */
export function toFieldErrors(errors: readonly ErrorObject[], prefix: string): FieldError[] {
  return errors.slice(0, MAX_ERRORS).map((e) => {
    let field = fieldOf(prefix, e.instancePath);
    if (e.keyword === 'required') field += `.${(e.params as { missingProperty: string }).missingProperty}`;
    if (e.keyword === 'additionalProperties') field += `.${(e.params as { additionalProperty: string }).additionalProperty}`;
    return { field, message: e.message ?? e.keyword };
  });
}

/** Compiled validators by tenant, type and version (a version's schema never changes). */
export function createValidatorCache(max = 1000): { get(key: string, schema: unknown): ValidateFunction | null } {
  const cache = new Map<string, ValidateFunction | null>();
  return {
    get(key, schema) {
      if (cache.has(key)) return cache.get(key)!;
      const c = compileSchema(schema);
      // A stored schema that no longer compiles (saved by an older release) is not enforced rather than refusing every publish.
      const v = c.ok ? c.validate : null;
      if (cache.size >= max) cache.delete(cache.keys().next().value!);
      cache.set(key, v);
      return v;
    },
  };
}
