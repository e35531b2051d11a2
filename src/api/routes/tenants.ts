import { createTenant, listTenants, updateTenant } from '../../domain/tenants.ts';
import { TenantParams, idCursor, pageOf, pageQuery } from '../schemas/common.ts';
import { TenantCreatedOut, TenantIn, TenantOut, TenantPatchIn } from '../schemas/resources.ts';
import type { Api, ApiDeps } from '../types.ts';

const tags = ['tenants'];
const security = [{ operatorToken: [] }];

export function tenantRoutes(app: Api, deps: ApiDeps): void {
  app.post('/v1/tenants', {
    config: { access: 'operator' },
    schema: {
      tags,
      security,
      operationId: 'createTenant',
      summary: 'Create a tenant',
      description: 'Operator only. Creates a tenant with its first admin API key; the key (`apiKey`) is answered once and stored hashed.',
      body: TenantIn,
      response: { 201: TenantCreatedOut },
    },
    handler: async (req, reply) => {
      const { tenant, apiKey } = await createTenant(deps, req.body);
      return reply.code(201).send({ ...tenant, apiKey });
    },
  });
  app.get('/v1/tenants', {
    config: { access: 'operator' },
    schema: {
      tags,
      security,
      operationId: 'listTenants',
      summary: 'List tenants',
      description: 'Operator only. Every tenant of this gateway, oldest first.',
      querystring: pageQuery(idCursor('ten')),
      response: { 200: pageOf(TenantOut) },
    },
    handler: (req) => listTenants(deps, req.query),
  });
  app.patch('/v1/tenants/:tenant', {
    config: { access: 'operator' },
    schema: {
      tags,
      security,
      operationId: 'updateTenant',
      summary: 'Update a tenant (its name or its plan)',
      description:
        "Operator only. `rateLimitPerSecond` is the tenant's plan: API requests per second, all its keys together (over it: 429 with Retry-After); `null` returns it to the operator's default. Every replica applies a change within 5 s.",
      params: TenantParams,
      body: TenantPatchIn,
      response: { 200: TenantOut },
    },
    handler: (req) => updateTenant(deps, req.params.tenant, req.body),
  });
}
