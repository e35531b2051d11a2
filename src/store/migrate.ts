import type { Db } from './db.ts';
import * as m0001 from './migrations/0001_init.ts';
import * as m0002 from './migrations/0002_tenant_keys.ts';
import * as m0003 from './migrations/0003_audit_log.ts';
import * as m0004 from './migrations/0004_message_traceparent.ts';
import * as m0005 from './migrations/0005_dashboard_users.ts';
import * as m0006 from './migrations/0006_delivery_control.ts';
import * as m0007 from './migrations/0007_payload_control.ts';
import * as m0008 from './migrations/0008_password_resets.ts';
import * as m0012 from './migrations/0012_tenant_rate_limit.ts';
import * as m0013 from './migrations/0013_claim_heads.ts';
import * as m0014 from './migrations/0014_hot_tenant_row.ts';

/** Plain-SQL migrations, in order. Add a file and append it here; never edit an applied one. */
const MIGRATIONS: ReadonlyArray<{ id: string; sql: string }> = [
  { id: '0001_init', sql: m0001.sql },
  { id: '0002_tenant_keys', sql: m0002.sql },
  { id: '0003_audit_log', sql: m0003.sql },
  { id: '0004_message_traceparent', sql: m0004.sql },
  { id: '0005_dashboard_users', sql: m0005.sql },
  { id: '0006_delivery_control', sql: m0006.sql },
  { id: '0007_payload_control', sql: m0007.sql },
  { id: '0008_password_resets', sql: m0008.sql },
  { id: '0012_tenant_rate_limit', sql: m0012.sql },
  { id: '0013_claim_heads', sql: m0013.sql },
  { id: '0014_hot_tenant_row', sql: m0014.sql },
];

// Any constant will do; it only has to be the same for every Tramline process.
const MIGRATION_LOCK = 7_261_626_101;

/** Attempts at the migration transaction when Postgres aborts it to break a deadlock. */
const DEADLOCK_ATTEMPTS = 5;

/**
 * Applies pending migrations in one transaction under an advisory lock, so two processes
 * starting at once migrate once: the second waits, then finds nothing to do. A migration that
 * locks tables the running fleet uses (a rolling upgrade under load) can deadlock with one of its
 * transactions; when Postgres picks the migration to abort, it runs again.
 */
export async function migrate(db: Db): Promise<string[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateOnce(db);
    } catch (err) {
      if (attempt >= DEADLOCK_ATTEMPTS || (err as { code?: unknown }).code !== '40P01') throw err;
    }
  }
}

async function migrateOnce(db: Db): Promise<string[]> {
  return db.owner(async (q) => {
    await q.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await q.query(`CREATE TABLE IF NOT EXISTS tramline_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
    const done = new Set((await q.query<{ id: string }>('SELECT id FROM tramline_migrations')).rows.map((r) => r.id));
    const applied: string[] = [];
    for (const m of MIGRATIONS) {
      if (done.has(m.id)) continue;
      await q.exec(m.sql);
      await q.query('INSERT INTO tramline_migrations (id) VALUES ($1)', [m.id]);
      applied.push(m.id);
    }
    return applied;
  });
}

/** True when every known migration is applied (readiness). */
export async function isMigrated(db: Db): Promise<boolean> {
  const latest = MIGRATIONS[MIGRATIONS.length - 1]!.id;
  try {
    return await db.owner(async (q) => {
      const r = await q.query('SELECT 1 FROM tramline_migrations WHERE id = $1', [latest]);
      return r.rows.length === 1;
    });
  } catch {
    return false; // no migrations table yet
  }
}
