import { AppError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { readPublishRules } from '../store/event-types.ts';
import { createValidatorCache, toFieldErrors } from './event-schemas.ts';

/**
 * What a publish must satisfy before it is committed: its type declared (when the tenant requires it) and
 * its payload valid against the type's current schema. The rules of a (tenant, type) are read once and kept
 * for RULES_TTL_MS, so a publish normally costs no extra query; a change made through this process
 * (`invalidate`) applies at once, one made through another API replica within RULES_TTL_MS.
 */
export const RULES_TTL_MS = 1000;

export interface EventCatalog {
  /** Throws a 422 problem when the publish breaks a rule. */
  check(tenantId: string, eventType: string, payload: unknown): Promise<void>;
  invalidate(tenantId: string, eventType?: string): void;
}

interface Rules {
  strict: boolean;
  declared: boolean;
  version: string | null;
  schema: unknown;
  readAt: number;
}

export function createEventCatalog(db: Db, o: { now?: () => number; maxEntries?: number } = {}): EventCatalog {
  const now = o.now ?? Date.now;
  const max = o.maxEntries ?? 10_000;
  const rules = new Map<string, Rules>();
  const validators = createValidatorCache();

  async function rulesOf(tenantId: string, eventType: string): Promise<Rules> {
    const key = `${tenantId}\u0000${eventType}`;
    const hit = rules.get(key);
    if (hit && now() - hit.readAt < RULES_TTL_MS) return hit;
    const r = { ...(await db.tenant(tenantId, (q) => readPublishRules(q, tenantId, eventType))), readAt: now() };
    if (rules.size >= max) rules.delete(rules.keys().next().value!);
    rules.set(key, r);
    return r;
  }

  return {
    async check(tenantId, eventType, payload) {
      const r = await rulesOf(tenantId, eventType);
      if (r.strict && !r.declared) {
        throw new AppError('UNDECLARED_EVENT_TYPE', `Event type ${eventType} is not declared, and this tenant requires declared types`, {
          errors: [{ field: 'body.eventType', message: 'not declared: create it with POST /v1/event-types first' }],
        });
      }
      if (r.version === null) return;
      const validate = validators.get(`${tenantId}\u0000${eventType}\u0000${r.version}`, r.schema);
      if (!validate || validate(payload)) return;
      throw new AppError('SCHEMA_MISMATCH', `The payload does not match version ${r.version} of the schema of ${eventType}`, {
        errors: toFieldErrors(validate.errors ?? [], 'body.payload'),
        extra: { eventType, schemaVersion: Number(r.version) || null },
      });
    },
    invalidate(tenantId, eventType) {
      if (eventType !== undefined) rules.delete(`${tenantId}\u0000${eventType}`);
      else for (const k of rules.keys()) if (k.startsWith(`${tenantId}\u0000`)) rules.delete(k);
    },
  };
}
