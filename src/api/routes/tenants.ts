import { createTenant, listTenants } from '../../domain/tenants.ts';
import { PageQuery, pageOf, Problem } from '../schemas/common.ts';
import { TenantCreatedOut, TenantIn, TenantOut } from '../schemas/resources.ts';
import type { Api, ApiDeps } from '../types.ts';

const tags = ['tenants'];
const security = [{ operator: [] }];

export function tenantRoutes(app: Api, deps: ApiDeps): void {
  app.post('/v1/tenants', {
    config: { access: 'operator' },
    schema: { tags, security, summary: 'Create a tenant (its admin API key is shown once)', body: TenantIn, response: { 201: TenantCreatedOut, 400: Problem, 401: Problem } },
    handler: async (req, reply) => {
      const { tenant, apiKey } = await createTenant(deps, req.body);
      return reply.code(201).send({ ...tenant, apiKey });
    },
  });
  app.get('/v1/tenants', {
    config: { access: 'operator' },
    schema: { tags, security, summary: 'List tenants', querystring: PageQuery, response: { 200: pageOf(TenantOut), 401: Problem } },
    handler: (req) => listTenants(deps, req.query),
  });
}
