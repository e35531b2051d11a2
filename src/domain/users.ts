import { createHash, randomBytes } from 'node:crypto';
import { AppError, notFound } from '../errors.ts';
import { newId } from '../store/ids.ts';
import type { Queryable } from '../store/db.ts';
import * as store from '../store/users.ts';
import { revokeUserSessions } from '../store/sessions.ts';
import type { DomainDeps } from './deps.ts';
import type { Scope } from './api-keys.ts';
import { checkPassword, hashPassword } from './passwords.ts';

export type Role = store.Role;
export type User = store.User;
export const ROLES = store.ROLES;

/**
 * What each role may do, as the API's scopes (so a session passes the same checks as a key):
 * owner and developer change things (admin, publish, read), a viewer only reads. Beyond scopes,
 * only an owner manages users and API keys (`canManageAccess`).
 */
export function roleScopes(role: Role): Scope[] {
  return role === 'viewer' ? ['read'] : ['admin', 'publish', 'read'];
}

export const canManageAccess = (role: Role): boolean => role === 'owner';

export const normalizeEmail = (email: string): string => email.trim().toLowerCase();

export const INVITE_PREFIX = 'tli_';
export const INVITE_TTL_MS = 7 * 24 * 3600_000;
const hashInvite = (token: string): string => createHash('sha256').update(token).digest('base64url');

export const listUsers = (deps: DomainDeps, tenantId: string): Promise<User[]> => deps.db.tenant(tenantId, (q) => store.listUsers(q));

export async function getUser(deps: DomainDeps, tenantId: string, id: string): Promise<User> {
  const u = await deps.db.tenant(tenantId, (q) => store.getUser(q, id));
  if (!u) throw notFound('User');
  return u;
}

export interface Invited {
  user: User;
  /** The token in clear: shown once to the inviting owner, never stored. */
  token: string;
  expiresAt: Date;
}

/**
 * Invites a user (or sends a new link to one still invited). An email already active in the
 * tenant is a conflict. The invitation token is shown once; its hash is stored.
 */
export async function inviteUser(
  deps: DomainDeps,
  tenantId: string,
  input: { email: string; role: Role },
  invitedBy: string | null,
): Promise<Invited> {
  const email = normalizeEmail(input.email);
  const token = INVITE_PREFIX + randomBytes(32).toString('base64url');
  const expiresAt = new Date(deps.clock().getTime() + INVITE_TTL_MS);
  return deps.db.tenant(tenantId, async (q) => {
    let user = await store.findUserByEmail(q, email);
    if (user && user.status === 'active') throw new AppError('CONFLICT', `${email} is already a user of this tenant`);
    if (user) user = (await store.updateUserRole(q, user.id, input.role))!;
    else user = await store.insertUser(q, { id: newId('usr'), tenantId, email, role: input.role, passwordHash: null });
    await store.insertInvitation(q, {
      id: newId('inv'),
      tenantId,
      userId: user.id,
      tokenHash: hashInvite(token),
      createdBy: invitedBy,
      expiresAt,
    });
    return { user, token, expiresAt };
  });
}

/**
 * Sets the password of an invited user; the invitation works once. Answers the tenant and user so
 * the caller can open a session. An unknown, used or expired token is one answer: 400.
 */
export async function acceptInvitation(
  deps: DomainDeps,
  input: { token: string; password: string },
): Promise<{ tenantId: string; userId: string }> {
  checkPassword(input.password);
  const invalid = (): AppError =>
    new AppError('VALIDATION', 'The invitation is not valid, was used already, or has expired', {
      errors: [{ field: 'body.token', message: 'not a valid invitation' }],
    });
  if (!input.token.startsWith(INVITE_PREFIX)) throw invalid();
  const found = await deps.db.system((q) => store.findOpenInvitation(q, hashInvite(input.token), deps.clock()));
  if (!found) throw invalid();
  const passwordHash = await hashPassword(input.password);
  await deps.db.tenant(found.tenantId, async (q) => {
    if (!(await store.acceptInvitation(q, found.id))) throw invalid();
    await store.setPassword(q, found.userId, passwordHash);
  });
  return { tenantId: found.tenantId, userId: found.userId };
}

/** Changes a role; the tenant keeps at least one active owner. */
export async function changeRole(deps: DomainDeps, tenantId: string, id: string, role: Role): Promise<User> {
  return deps.db.tenant(tenantId, async (q) => {
    const before = await store.getUser(q, id);
    if (!before) throw notFound('User');
    if (before.role === 'owner' && role !== 'owner') await keepAnOwner(q, before);
    return (await store.updateUserRole(q, id, role))!;
  });
}

/** Deletes a user and, with it, its sessions and invitations; the tenant keeps at least one active owner. */
export async function deleteUser(deps: DomainDeps, tenantId: string, id: string): Promise<void> {
  await deps.db.tenant(tenantId, async (q) => {
    const before = await store.getUser(q, id);
    if (!before) throw notFound('User');
    if (before.role === 'owner') await keepAnOwner(q, before);
    await revokeUserSessions(q, id);
    await store.deleteUser(q, id);
  });
}

async function keepAnOwner(q: Queryable, user: User): Promise<void> {
  if (user.status !== 'active') return;
  if ((await store.countActiveOwners(q)) <= 1)
    throw new AppError('CONFLICT', 'A tenant keeps at least one owner: make another user owner first');
}

/**
 * The operator creates a user with a password (a tenant's first owner): no invitation. The tenant
 * must exist (404 otherwise); the email must be new in it (409).
 */
export async function createUserWithPassword(
  deps: DomainDeps,
  tenantId: string,
  input: { email: string; password: string; role?: Role | undefined },
): Promise<User> {
  checkPassword(input.password);
  const email = normalizeEmail(input.email);
  const exists = await deps.db.system(async (q) => (await q.query('SELECT 1 FROM tenants WHERE id = $1', [tenantId])).rows.length === 1);
  if (!exists) throw notFound('Tenant');
  const passwordHash = await hashPassword(input.password);
  return deps.db.tenant(tenantId, async (q) => {
    if (await store.findUserByEmail(q, email)) throw new AppError('CONFLICT', `${email} is already a user of this tenant`);
    return store.insertUser(q, { id: newId('usr'), tenantId, email, role: input.role ?? 'owner', passwordHash });
  });
}
