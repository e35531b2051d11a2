import { createHash, randomBytes } from 'node:crypto';
import { AppError, notFound } from '../errors.ts';
import { newId } from '../store/ids.ts';
import * as resets from '../store/password-resets.ts';
import { revokeUserSessions } from '../store/sessions.ts';
import { clearFailures } from '../store/sign-in-throttle.ts';
import * as users from '../store/users.ts';
import type { DomainDeps } from './deps.ts';
import { checkPassword, hashPassword } from './passwords.ts';
import { throttleKey } from './sessions.ts';

/**
 * Self-service password reset without a mail server: an owner (or an admin key, or the operator) issues
 * a one-time link for an active user and passes it on; the user sets a new password on the reset page.
 * The token (`tlr_` + 256 random bits) is shown once and stored as its SHA-256; it works once, for an
 * hour, and a newer link for the same user closes the older ones. Setting the password ends every
 * session of the user (whoever held one is out) and clears the account's failed sign-ins.
 */
export const RESET_PREFIX = 'tlr_';
export const RESET_TTL_MS = 3600_000;
const hashReset = (token: string): string => createHash('sha256').update(token).digest('base64url');

export interface IssuedReset {
  user: users.User;
  /** In clear: shown once to whoever issued it, never stored. */
  token: string;
  expiresAt: Date;
}

/** For an active user of the tenant, by id or by email. An invited user gets a new invitation instead (409). */
export async function issuePasswordReset(
  deps: DomainDeps,
  tenantId: string,
  who: { userId: string } | { email: string },
  issuedBy: string | null,
): Promise<IssuedReset> {
  const token = RESET_PREFIX + randomBytes(32).toString('base64url');
  const expiresAt = new Date(deps.clock().getTime() + RESET_TTL_MS);
  return deps.db.tenant(tenantId, async (q) => {
    const user = 'userId' in who ? await users.getUser(q, who.userId) : await users.findUserByEmail(q, who.email.trim().toLowerCase());
    if (!user) throw notFound('User');
    if (user.status !== 'active')
      throw new AppError('CONFLICT', `${user.email} has not accepted the invitation yet: invite them again (POST /v1/users) instead`);
    await resets.closeOpenResets(q, user.id);
    await resets.insertReset(q, {
      id: newId('pwr'),
      tenantId,
      userId: user.id,
      tokenHash: hashReset(token),
      createdBy: issuedBy,
      expiresAt,
    });
    return { user, token, expiresAt };
  });
}

/** Sets the new password; an unknown, used or expired token is one answer: 400 naming `body.token`. */
export async function resetPassword(
  deps: DomainDeps,
  input: { token: string; password: string },
): Promise<{ tenantId: string; userId: string }> {
  checkPassword(input.password);
  const invalid = (): AppError =>
    new AppError('VALIDATION', 'The reset link is not valid, was used already, or has expired: ask for a new one', {
      errors: [{ field: 'body.token', message: 'not a valid password reset' }],
    });
  if (!input.token.startsWith(RESET_PREFIX)) throw invalid();
  const now = deps.clock();
  const found = await deps.db.system((q) => resets.findOpenReset(q, hashReset(input.token), now));
  if (!found) throw invalid();
  const passwordHash = await hashPassword(input.password);
  const email = await deps.db.tenant(found.tenantId, async (q) => {
    if (!(await resets.useReset(q, found.id, now))) throw invalid();
    const user = await users.getUser(q, found.userId);
    if (!user) throw invalid();
    await users.setPassword(q, found.userId, passwordHash);
    await revokeUserSessions(q, found.userId);
    await resets.closeOpenResets(q, found.userId);
    return user.email;
  });
  await deps.db.system((q) => clearFailures(q, throttleKey('account', email)));
  return found;
}
