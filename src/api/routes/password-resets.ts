import { z } from 'zod';
import { issuePasswordReset, resetPassword, type IssuedReset } from '../../domain/password-resets.ts';
import { recordAudit } from '../../domain/audit.ts';
import { tenantOf } from '../plugins/auth.ts';
import { Problem } from '../schemas/common.ts';
import { Email, NewPassword, TenantParams, UserOut, UserParams } from '../schemas/dashboard.ts';
import type { Api, ApiDeps } from '../types.ts';

const ResetIssuedOut = z.object({
  user: UserOut,
  resetUrl: z.string().describe('The dashboard page that sets the new password; the token travels in the fragment'),
  resetToken: z.string().describe('tlr_…: shown once, valid for an hour, once'),
  expiresAt: z.date(),
});
const ResetPasswordIn = z.object({ token: z.string().min(1).max(256), password: NewPassword }).strict();

/**
 * Password resets of dashboard users (docs/dashboard-api.md): an owner, an admin key or the operator
 * issues a one-time link; the user sets the new password with it (public route: the token is the
 * credential), which ends all of the user's sessions.
 */
export function passwordResetRoutes(app: Api, deps: ApiDeps): void {
  // TRAMLINE_PUBLIC_URL, or a link relative to this gateway: never built from the request's Host header.
  const out = (r: IssuedReset) => ({
    user: r.user,
    resetUrl: `${deps.portal.publicUrl ?? ''}/app/reset-password#token=${r.token}`,
    resetToken: r.token,
    expiresAt: r.expiresAt,
  });

  app.post('/v1/users/:user/password-reset', {
    config: { access: 'admin' },
    schema: {
      tags: ['users'],
      security: [{ session: [] }, { apiKey: [] }],
      operationId: 'issuePasswordReset',
      summary: 'Issue a one-time password reset link for a user (shown once; an hour; once)',
      description:
        'Owners or an admin key. Pass the link on to the user: it opens the dashboard’s reset page. A new link closes the user’s earlier ones; an invited user (not yet active) answers 409: invite again instead.',
      params: UserParams,
      response: { 201: ResetIssuedOut, 401: Problem, 403: Problem, 404: Problem, 409: Problem },
    },
    handler: async (req, reply) => {
      const p = req.principal;
      const by = p && p.kind === 'tenant' ? (p.session ? `user:${p.session.userId}` : `key:${p.keyId}`) : null;
      return reply.code(201).send(out(await issuePasswordReset(deps, tenantOf(req), { userId: req.params.user }, by)));
    },
  });

  app.post('/v1/tenants/:tenant/password-resets', {
    config: { access: 'operator' },
    schema: {
      tags: ['tenants'],
      security: [{ operatorToken: [] }],
      operationId: 'issueTenantPasswordReset',
      summary: 'Issue a one-time password reset link for a user of a tenant, by email; operator token',
      description:
        'Operator token only (`tramline users reset-password` does the same): for a user who cannot sign in and has no owner to ask.',
      params: TenantParams,
      body: z.object({ email: Email }).strict(),
      response: { 201: ResetIssuedOut, 400: Problem, 401: Problem, 404: Problem, 409: Problem },
    },
    handler: async (req, reply) => {
      const issued = await issuePasswordReset(deps, req.params.tenant, { email: req.body.email }, 'operator');
      await audit(req, issued.user.id, req.params.tenant, 'operator', 'user.password_reset.issue');
      return reply.code(201).send(out(issued));
    },
  });

  app.post('/v1/auth/reset-password', {
    schema: {
      tags: ['dashboard sessions'],
      security: [],
      operationId: 'resetPassword',
      summary: 'Set a new password with a reset token; ends every session of the user',
      description:
        'Public: the reset token is the credential (tlr_…, an hour, once). The password needs 12 characters or more. Sign in afterwards.',
      body: ResetPasswordIn,
      response: { 204: z.null(), 400: Problem },
    },
    handler: async (req, reply) => {
      const { tenantId, userId } = await resetPassword(deps, req.body);
      await audit(req, userId, tenantId, `user:${userId}`, 'user.reset_password');
      reply.header('cache-control', 'no-store');
      return reply.code(204).send(null);
    },
  });

  async function audit(
    req: import('fastify').FastifyRequest,
    userId: string,
    tenantId: string,
    actor: string,
    action: string,
  ): Promise<void> {
    try {
      await recordAudit(deps, {
        tenantId,
        actor,
        action,
        target: userId,
        ip: req.ip,
        requestId: req.id,
        status: req.routeOptions.url === '/v1/auth/reset-password' ? 204 : 201,
      });
    } catch (err) {
      req.log.error({ err, action }, 'could not write the audit entry');
    }
  }
}
