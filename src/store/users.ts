import type { Queryable } from './db.ts';

export type Role = 'owner' | 'developer' | 'viewer';
export const ROLES: readonly Role[] = ['owner', 'developer', 'viewer'];

export interface User {
  id: string;
  tenantId: string;
  email: string;
  role: Role;
  /** `invited` until the invitation is accepted (no password yet). */
  status: 'active' | 'invited';
  lastSignInAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

interface UserRow {
  id: string;
  tenant_id: string;
  email: string;
  role: Role;
  has_password: boolean;
  last_sign_in_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, tenant_id, email, role, password_hash IS NOT NULL AS has_password, last_sign_in_at, created_at, updated_at';

const toUser = (r: UserRow): User => ({
  id: r.id,
  tenantId: r.tenant_id,
  email: r.email,
  role: r.role,
  status: r.has_password ? 'active' : 'invited',
  lastSignInAt: r.last_sign_in_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export async function insertUser(
  q: Queryable,
  u: { id: string; tenantId: string; email: string; role: Role; passwordHash: string | null },
): Promise<User> {
  const r = await q.query<UserRow>(
    `INSERT INTO users (id, tenant_id, email, role, password_hash) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
    [u.id, u.tenantId, u.email, u.role, u.passwordHash],
  );
  return toUser(r.rows[0]!);
}

export async function getUser(q: Queryable, id: string): Promise<User | null> {
  const r = await q.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [id]);
  return r.rows[0] ? toUser(r.rows[0]) : null;
}

export async function findUserByEmail(q: Queryable, email: string): Promise<User | null> {
  const r = await q.query<UserRow>(`SELECT ${COLUMNS} FROM users WHERE email = $1`, [email]);
  return r.rows[0] ? toUser(r.rows[0]) : null;
}

/** Every user of the tenant (a dashboard has a handful): oldest first. */
export async function listUsers(q: Queryable): Promise<User[]> {
  const r = await q.query<UserRow>(`SELECT ${COLUMNS} FROM users ORDER BY id LIMIT 1000`);
  return r.rows.map(toUser);
}

export async function updateUserRole(q: Queryable, id: string, role: Role): Promise<User | null> {
  const r = await q.query<UserRow>(`UPDATE users SET role = $2, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`, [id, role]);
  return r.rows[0] ? toUser(r.rows[0]) : null;
}

export async function setPassword(q: Queryable, id: string, passwordHash: string): Promise<void> {
  await q.query(`UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1`, [id, passwordHash]);
}

export async function markSignedIn(q: Queryable, id: string): Promise<void> {
  await q.query(`UPDATE users SET last_sign_in_at = now() WHERE id = $1`, [id]);
}

export async function deleteUser(q: Queryable, id: string): Promise<boolean> {
  const r = await q.query(`DELETE FROM users WHERE id = $1`, [id]);
  return r.rowCount > 0;
}

/** Owners with a password (active), locked against concurrent demotions in the same transaction. */
export async function countActiveOwners(q: Queryable): Promise<number> {
  const r = await q.query<{ id: string }>(`SELECT id FROM users WHERE role = 'owner' AND password_hash IS NOT NULL FOR UPDATE`);
  return r.rows.length;
}

// --- Sign-in: the system role's only look-up of users ------------------------

export interface Credentials {
  userId: string;
  tenantId: string;
  tenantName: string;
  passwordHash: string;
}

/**
 * System path: the accounts an email has, in every tenant (the sign-in form does not know the
 * tenant). Only what checking a password needs; at most `limit` rows.
 */
export async function findCredentialsByEmail(q: Queryable, email: string, limit: number): Promise<Credentials[]> {
  const r = await q.query<{ id: string; tenant_id: string; tenant_name: string; password_hash: string }>(
    `SELECT u.id, u.tenant_id, t.name AS tenant_name, u.password_hash
       FROM users u JOIN tenants t ON t.id = u.tenant_id
      WHERE u.email = $1 AND u.password_hash IS NOT NULL
      ORDER BY u.id LIMIT $2`,
    [email, limit],
  );
  return r.rows.map((x) => ({ userId: x.id, tenantId: x.tenant_id, tenantName: x.tenant_name, passwordHash: x.password_hash }));
}

// --- Invitations --------------------------------------------------------------

export async function insertInvitation(
  q: Queryable,
  i: { id: string; tenantId: string; userId: string; tokenHash: string; createdBy: string | null; expiresAt: Date },
): Promise<void> {
  // A new invitation replaces the user's earlier ones: only the latest link works.
  await q.query(`DELETE FROM invitations WHERE user_id = $1 AND accepted_at IS NULL`, [i.userId]);
  await q.query(`INSERT INTO invitations (id, tenant_id, user_id, token_hash, created_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`, [
    i.id,
    i.tenantId,
    i.userId,
    i.tokenHash,
    i.createdBy,
    i.expiresAt,
  ]);
}

/**
 * System path: an open invitation by the hash of its token (the accepting browser has no session,
 * so no tenant). Returns only the ids; the rest is read under the tenant.
 */
export async function findOpenInvitation(
  q: Queryable,
  tokenHash: string,
  now: Date,
): Promise<{ id: string; tenantId: string; userId: string } | null> {
  const r = await q.query<{ id: string; tenant_id: string; user_id: string }>(
    `SELECT id, tenant_id, user_id FROM invitations WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > $2`,
    [tokenHash, now],
  );
  const x = r.rows[0];
  return x ? { id: x.id, tenantId: x.tenant_id, userId: x.user_id } : null;
}

/** Marks it accepted; false when another request accepted it first. */
export async function acceptInvitation(q: Queryable, id: string): Promise<boolean> {
  const r = await q.query(`UPDATE invitations SET accepted_at = now() WHERE id = $1 AND accepted_at IS NULL`, [id]);
  return r.rowCount > 0;
}
