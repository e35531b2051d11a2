import { z } from 'zod';
import { Ref } from './common.ts';

/** Request and response shapes of the dashboard's routes (users, sessions, stats, settings); see docs/dashboard-api.md. */

export const Email = z
  .email({ error: 'must be an email address' })
  .max(254)
  .meta({ examples: ['ada@acme.example'] });
export const Role = z.enum(['owner', 'developer', 'viewer']);
/** A new password: 12 to 256 characters (length, not composition rules). */
export const NewPassword = z
  .string()
  .min(12, 'must have at least 12 characters')
  .max(256, 'must have at most 256 characters')
  .meta({ examples: ['correct horse battery staple'] });

export const UserOut = z.object({
  id: z.string(),
  email: z.string(),
  role: Role,
  status: z.enum(['active', 'invited']).describe('invited: the invitation has not been accepted yet'),
  lastSignInAt: z.date().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
});

export const TenantRef = z.object({ id: z.string(), name: z.string() });

export const SessionOut = z.object({
  user: UserOut,
  tenant: TenantRef,
  csrfToken: z.string().describe('Send it in the x-csrf-token header of every POST, PATCH, PUT and DELETE made with the session cookie'),
});

export const SignInIn = z
  .object({
    email: Email,
    password: z.string().min(1).max(1024),
    tenant: Ref.optional().describe('The tenant id, needed only when this email has accounts in several tenants (409 lists them)'),
  })
  .strict();

export const AcceptInviteIn = z.object({ token: z.string().min(1).max(256), password: NewPassword }).strict();

export const SessionItemOut = z.object({
  id: z.string(),
  createdAt: z.date(),
  lastSeenAt: z.date(),
  expiresAt: z.date(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  current: z.boolean().describe('true for the session that made this request'),
});

export const SessionParams = z.object({ session: Ref });
export const UserParams = z.object({ user: Ref });
export const TenantParams = z.object({ tenant: Ref });

export const UserInviteIn = z.object({ email: Email, role: Role }).strict();
export const UserInvitedOut = z.object({
  user: UserOut,
  inviteUrl: z.string().describe('The dashboard page that accepts the invitation; the token travels in the fragment'),
  inviteToken: z.string().describe('tli_…: shown once'),
  expiresAt: z.date(),
});
export const UserPatch = z.object({ role: Role }).strict();
export const OperatorUserIn = z
  .object({ email: Email, password: NewPassword, role: Role.optional().describe('owner when omitted') })
  .strict();

export const listOf = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item), nextCursor: z.null() });
