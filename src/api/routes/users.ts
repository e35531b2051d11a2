import { z } from 'zod';
import { changeRole, createUserWithPassword, deleteUser, inviteUser, listUsers } from '../../domain/users.ts';
import { tenantOf } from '../plugins/auth.ts';
import { Problem } from '../schemas/common.ts';
import {
  listOf,
  OperatorUserIn,
  TenantParams,
  UserInviteIn,
  UserInvitedOut,
  UserOut,
  UserParams,
  UserPatch,
} from '../schemas/dashboard.ts';
import type { Api, ApiDeps } from '../types.ts';

const tags = ['users'];
const security: Array<Record<string, string[]>> = [{ session: [] }, { apiKey: [] }];

/**
 * The tenant's dashboard users. With a session, only an owner may call these (the auth plugin
 * refuses developers and viewers with 403); with an API key, the admin scope.
 * The operator creates a tenant's first owner (POST /v1/tenants/{tenant}/users).
 */
export function userRoutes(app: Api, deps: ApiDeps): void {
  app.get('/v1/users', {
    config: { access: 'admin' },
    schema: {
      tags,
      security,
      operationId: 'listUsers',
      summary: 'List the tenant’s dashboard users',
      description: 'Owners (a session) or an admin key.',
      response: { 200: listOf(UserOut), 401: Problem, 403: Problem },
    },
    handler: async (req) => ({ data: await listUsers(deps, tenantOf(req)), nextCursor: null }),
  });

  app.post('/v1/users', {
    config: { access: 'admin' },
    schema: {
      tags,
      security,
      operationId: 'inviteUser',
      summary: 'Invite a user (or send a new invitation to one still invited); the invitation token is shown once',
      description: 'Owners or an admin key. The answer carries the invitation link to pass on; the token is stored hashed.',
      body: UserInviteIn,
      response: { 201: UserInvitedOut, 400: Problem, 401: Problem, 403: Problem, 409: Problem },
    },
    handler: async (req, reply) => {
      const p = req.principal;
      const by = p && p.kind === 'tenant' ? (p.session ? `user:${p.session.userId}` : `key:${p.keyId}`) : null;
      const invited = await inviteUser(deps, tenantOf(req), req.body, by);
      // TRAMLINE_PUBLIC_URL, or a link relative to this gateway: never built from the request's Host header,
      // which a client chooses (`Host: evil.example"><script>` came back inside the link).
      const base = deps.portal.publicUrl ?? '';
      return reply.code(201).send({
        user: invited.user,
        inviteUrl: `${base}/app/accept-invite#token=${invited.token}`,
        inviteToken: invited.token,
        expiresAt: invited.expiresAt,
      });
    },
  });

  app.patch('/v1/users/:user', {
    config: { access: 'admin' },
    schema: {
      tags,
      security,
      operationId: 'updateUser',
      summary: 'Change a user’s role (a tenant keeps at least one owner)',
      description: 'Owners or an admin key; takes effect on the user’s next request.',
      params: UserParams,
      body: UserPatch,
      response: { 200: UserOut, 400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem },
    },
    handler: async (req) => changeRole(deps, tenantOf(req), req.params.user, req.body.role),
  });

  app.delete('/v1/users/:user', {
    config: { access: 'admin' },
    schema: {
      tags,
      security,
      operationId: 'deleteUser',
      summary: 'Delete a user and end its sessions (a tenant keeps at least one owner)',
      description: 'Owners or an admin key; the user’s sessions end at once.',
      params: UserParams,
      response: { 204: z.null(), 401: Problem, 403: Problem, 404: Problem, 409: Problem },
    },
    handler: async (req, reply) => {
      await deleteUser(deps, tenantOf(req), req.params.user);
      return reply.code(204).send(null);
    },
  });

  app.post('/v1/tenants/:tenant/users', {
    config: { access: 'operator' },
    schema: {
      tags: ['tenants'],
      security: [{ operatorToken: [] }],
      operationId: 'createTenantUser',
      summary: 'Create a dashboard user with a password in a tenant (its first owner); operator token',
      description: 'Operator token only: how a new tenant gets its first owner (`tramline users create` does the same).',
      params: TenantParams,
      body: OperatorUserIn,
      response: { 201: UserOut, 400: Problem, 401: Problem, 404: Problem, 409: Problem },
    },
    handler: async (req, reply) => reply.code(201).send(await createUserWithPassword(deps, req.params.tenant, req.body)),
  });
}
