import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { recordAudit } from '../../domain/audit.ts';
import {
  describeSession,
  listSessions,
  revokeSession,
  signIn,
  startSession,
  SESSION_TTL_MS,
  type SignedIn,
} from '../../domain/sessions.ts';
import { acceptInvitation } from '../../domain/users.ts';
import { SESSION_COOKIE, sessionOf } from '../plugins/auth.ts';
import { Problem } from '../schemas/common.ts';
import { AcceptInviteIn, listOf, SessionItemOut, SessionOut, SessionParams, SignInIn } from '../schemas/dashboard.ts';
import type { Api, ApiDeps } from '../types.ts';

const tags = ['dashboard sessions'];
const security = [{ session: [] }];

const RateLimitedProblem = Problem.extend({
  retryAfter: z.number().int().describe('Seconds until a sign-in may be tried again (also in Retry-After)'),
});
const SeveralTenantsProblem = Problem.extend({ tenants: z.array(z.object({ id: z.string(), name: z.string() })).optional() });

/**
 * Sign-in, sign-out and the sessions of the dashboard (the contract: docs/dashboard-api.md).
 * The session travels in the `tramline_session` cookie: HttpOnly (no script reads it), SameSite=Lax
 * (not sent on cross-site POSTs), Secure when the request came over TLS (`req.protocol`, which honours
 * trustProxy), Path=/ (the API and the app share an origin).
 */
export function sessionRoutes(app: Api, deps: ApiDeps): void {
  app.post('/v1/auth/sign-in', {
    schema: {
      tags,
      security: [],
      operationId: 'signIn',
      summary: 'Sign in to the dashboard with an email and password; sets the tramline_session cookie',
      description:
        'Public. Answers the user, the tenant and the CSRF token to send as x-csrf-token on every change. Several tenants for one email: 409 with their list; send `tenant`. Repeated failures lock the account and the address for a while (429 with Retry-After).',
      body: SignInIn,
      response: { 200: SessionOut, 400: Problem, 401: Problem, 409: SeveralTenantsProblem, 429: RateLimitedProblem },
    },
    handler: async (req, reply) => {
      let signed: SignedIn;
      try {
        signed = await signIn(deps, { ...req.body, ip: req.ip, userAgent: req.headers['user-agent'] ?? null });
      } catch (err) {
        if (err instanceof AppError && err.code === 'RATE_LIMITED') reply.header('retry-after', String(err.extra?.retryAfter ?? 60));
        throw err;
      }
      await auditSignIn(req, signed, 'session.sign_in');
      return sendSignedIn(req, reply, signed);
    },
  });

  app.post('/v1/auth/accept-invite', {
    schema: {
      tags,
      security: [],
      operationId: 'acceptInvite',
      summary: 'Accept an invitation: set a password and sign in (sets the tramline_session cookie)',
      description: 'Public: the invitation token is the credential (tli_…, 7 days, once). The password needs 12 characters or more.',
      body: AcceptInviteIn,
      response: { 200: SessionOut, 400: Problem },
    },
    handler: async (req, reply) => {
      const { tenantId, userId } = await acceptInvitation(deps, req.body);
      const signed = await startSession(deps, tenantId, userId, { ip: req.ip, userAgent: req.headers['user-agent'] ?? null });
      await auditSignIn(req, signed, 'user.accept_invite');
      return sendSignedIn(req, reply, signed);
    },
  });

  app.post('/v1/auth/sign-out', {
    config: { access: 'session' },
    schema: {
      tags,
      security,
      operationId: 'signOut',
      summary: 'Sign out: ends this session and clears its cookie',
      description: 'Dashboard sessions only (an API key answers 403); needs the x-csrf-token header.',
      response: { 204: z.null(), 401: Problem, 403: Problem },
    },
    handler: async (req, reply) => {
      const s = sessionOf(req);
      await revokeSession(deps, s, s.sessionId);
      clearSessionCookie(req, reply);
      return reply.code(204).send(null);
    },
  });

  app.get('/v1/auth/session', {
    config: { access: 'session' },
    schema: {
      tags,
      security,
      operationId: 'getSession',
      summary: 'The signed-in user, its tenant and the CSRF token',
      description: 'Dashboard sessions only. The dashboard calls it on load; 401 when the cookie is missing or its session ended.',
      response: { 200: SessionOut, 401: Problem, 403: Problem },
    },
    handler: async (req, reply) => {
      const s = sessionOf(req);
      reply.header('cache-control', 'no-store');
      return describeSession(deps, s, s.secret);
    },
  });

  app.get('/v1/auth/sessions', {
    config: { access: 'session' },
    schema: {
      tags,
      security,
      operationId: 'listSessions',
      summary: 'The signed-in user’s live sessions, newest first',
      description: 'Dashboard sessions only; the current session is marked, with its address and user agent.',
      response: { 200: listOf(SessionItemOut), 401: Problem, 403: Problem },
    },
    handler: async (req) => {
      const s = sessionOf(req);
      const list = await listSessions(deps, s);
      return { data: list.map((x) => ({ ...x, current: x.id === s.sessionId })), nextCursor: null };
    },
  });

  app.delete('/v1/auth/sessions/:session', {
    config: { access: 'session' },
    schema: {
      tags,
      security,
      operationId: 'revokeSession',
      summary: 'Revoke one of the signed-in user’s sessions (its cookie stops working at once)',
      description: 'Dashboard sessions only; needs the x-csrf-token header. Other users’ sessions answer 404.',
      params: SessionParams,
      response: { 204: z.null(), 401: Problem, 403: Problem, 404: Problem },
    },
    handler: async (req, reply) => {
      const s = sessionOf(req);
      await revokeSession(deps, s, req.params.session);
      if (req.params.session === s.sessionId) clearSessionCookie(req, reply);
      return reply.code(204).send(null);
    },
  });

  async function auditSignIn(req: FastifyRequest, signed: SignedIn, action: string): Promise<void> {
    try {
      await recordAudit(deps, {
        tenantId: signed.tenant.id,
        actor: `user:${signed.user.id}`,
        action,
        target: signed.session.id,
        ip: req.ip,
        requestId: req.id,
        status: 200,
      });
    } catch (err) {
      req.log.error({ err, action }, 'could not write the audit entry');
    }
  }
}

const cookieOptions = (req: FastifyRequest) => ({ httpOnly: true, sameSite: 'lax' as const, secure: req.protocol === 'https', path: '/' });

function sendSignedIn(req: FastifyRequest, reply: FastifyReply, s: SignedIn): FastifyReply {
  reply.setCookie(SESSION_COOKIE, s.secret, { ...cookieOptions(req), maxAge: Math.floor(SESSION_TTL_MS / 1000) });
  reply.header('cache-control', 'no-store');
  return reply.code(200).send({ user: s.user, tenant: s.tenant, csrfToken: s.csrfToken });
}

function clearSessionCookie(req: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, cookieOptions(req));
}
