import type { Queryable } from './db.ts';
import type { Role } from './users.ts';

export interface Session {
  id: string;
  userId: string;
  ip: string | null;
  userAgent: string | null;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
}

interface SessionRow {
  id: string;
  user_id: string;
  ip: string | null;
  user_agent: string | null;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
}

const COLUMNS = 'id, user_id, ip, user_agent, created_at, last_seen_at, expires_at';

const toSession = (r: SessionRow): Session => ({
  id: r.id,
  userId: r.user_id,
  ip: r.ip,
  userAgent: r.user_agent,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
  expiresAt: r.expires_at,
});

export async function insertSession(
  q: Queryable,
  s: {
    id: string;
    tenantId: string;
    userId: string;
    tokenHash: string;
    ip: string | null;
    userAgent: string | null;
    now: Date;
    expiresAt: Date;
  },
): Promise<Session> {
  const r = await q.query<SessionRow>(
    `INSERT INTO sessions (id, tenant_id, user_id, token_hash, ip, user_agent, created_at, last_seen_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) RETURNING ${COLUMNS}`,
    [s.id, s.tenantId, s.userId, s.tokenHash, s.ip, s.userAgent, s.now, s.expiresAt],
  );
  return toSession(r.rows[0]!);
}

/** What authenticating a request by its session cookie yields. */
export interface SessionPrincipalRow {
  sessionId: string;
  tenantId: string;
  userId: string;
  role: Role;
  lastSeenAt: Date;
}

/**
 * System path, the only cross-tenant read of sessions: the live session whose cookie hashes to
 * `tokenHash`, with its user's current role (a role change applies to the next request). Idle and
 * absolute expiry are both checked here.
 */
export async function findLiveSession(q: Queryable, tokenHash: string, now: Date, idleMs: number): Promise<SessionPrincipalRow | null> {
  const r = await q.query<{ id: string; tenant_id: string; user_id: string; role: Role; last_seen_at: Date }>(
    `SELECT s.id, s.tenant_id, s.user_id, u.role, s.last_seen_at
       FROM sessions s JOIN users u ON u.id = s.user_id AND u.tenant_id = s.tenant_id
      WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
        AND s.last_seen_at > $2::timestamptz - make_interval(secs => $3::float8 / 1000)
        AND u.password_hash IS NOT NULL`,
    [tokenHash, now, idleMs],
    'tramline_find_live_session',
  );
  const x = r.rows[0];
  return x ? { sessionId: x.id, tenantId: x.tenant_id, userId: x.user_id, role: x.role, lastSeenAt: x.last_seen_at } : null;
}

export async function touchSession(q: Queryable, id: string, now: Date): Promise<void> {
  await q.query(`UPDATE sessions SET last_seen_at = $2 WHERE id = $1`, [id, now]);
}

/** The live sessions of one user, newest first (tenant role). */
export async function listUserSessions(q: Queryable, userId: string, now: Date): Promise<Session[]> {
  const r = await q.query<SessionRow>(
    `SELECT ${COLUMNS} FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 ORDER BY id DESC LIMIT 200`,
    [userId, now],
  );
  return r.rows.map(toSession);
}

export async function revokeSession(q: Queryable, id: string, userId: string): Promise<boolean> {
  const r = await q.query(
    `UPDATE sessions SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL`,
    [id, userId],
  );
  return r.rowCount > 0;
}

export async function revokeUserSessions(q: Queryable, userId: string): Promise<void> {
  await q.query(`UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, [userId]);
}
