import type { Queryable } from './db.ts';

/** SQL of the password_resets table (0008). The tenant's own queries run under its RLS; `findOpenReset` is the system look-up. */

export async function insertReset(
  q: Queryable,
  r: { id: string; tenantId: string; userId: string; tokenHash: string; createdBy: string | null; expiresAt: Date },
): Promise<void> {
  await q.query(
    `INSERT INTO password_resets (id, tenant_id, user_id, token_hash, created_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
    [r.id, r.tenantId, r.userId, r.tokenHash, r.createdBy, r.expiresAt],
  );
}

/** Closes the user's open resets (a new link replaces them; a used one ends the others). */
export async function closeOpenResets(q: Queryable, userId: string): Promise<void> {
  await q.query(`UPDATE password_resets SET used_at = now() WHERE user_id = $1 AND used_at IS NULL`, [userId]);
}

/** System role: the open, unexpired reset with this token hash. */
export async function findOpenReset(
  q: Queryable,
  tokenHash: string,
  now: Date,
): Promise<{ id: string; tenantId: string; userId: string } | null> {
  const r = await q.query<{ id: string; tenant_id: string; user_id: string }>(
    `SELECT id, tenant_id, user_id FROM password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2`,
    [tokenHash, now],
  );
  const x = r.rows[0];
  return x ? { id: x.id, tenantId: x.tenant_id, userId: x.user_id } : null;
}

/** Marks a reset used; false when another request used it first (single use under concurrency). */
export async function useReset(q: Queryable, id: string, now: Date): Promise<boolean> {
  const r = await q.query(`UPDATE password_resets SET used_at = now() WHERE id = $1 AND used_at IS NULL AND expires_at > $2`, [id, now]);
  return r.rowCount > 0;
}
