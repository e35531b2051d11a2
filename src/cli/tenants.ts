import type { Config } from '../config.ts';
import { createTenant, updateTenant } from '../domain/tenants.ts';
import { withClosers } from '../boot/closers.ts';
import { DataDirLockedError, openDeps } from '../boot/deps.ts';
import { readOperatorToken } from '../boot/operator-token.ts';
import { readGatewayRecord } from './gateway-record.ts';
import { identifyGateway } from './identify.ts';

/**
 * Creates a tenant directly in the database, or, when the embedded data folder is held by a
 * running gateway, through that gateway's API with the operator token — only after the gateway
 * recorded in the data folder proved it is Tramline and knows that token.
 */
export async function runTenantsCreate(config: Config, name: string, opts: { quiet?: boolean } = {}): Promise<void> {
  let created: { id: string; name: string; apiKey: string };
  try {
    created = await withClosers(async (closers) => {
      const r = await createTenant(await openDeps(config, closers), { name });
      return { id: r.tenant.id, name: r.tenant.name, apiKey: r.apiKey };
    });
  } catch (err) {
    if (!(err instanceof DataDirLockedError)) throw err;
    created = (await viaRunningGateway(config, err, 'POST', '/v1/tenants', { name }, 201)) as typeof created;
  }
  process.stdout.write(
    opts.quiet ? `${created.apiKey}\n` : `Tenant ${created.id} (${created.name})\nAPI key (shown once): ${created.apiKey}\n`,
  );
}

/** Sets a tenant's plan: its API requests per second (`none`: back to the operator's default). */
export async function runTenantsLimit(config: Config, tenantId: string, perSecond: string): Promise<void> {
  const rateLimitPerSecond = parseLimit(perSecond);
  let updated: { id: string; name: string; rateLimitPerSecond: number | null };
  try {
    updated = await withClosers(async (closers) => updateTenant(await openDeps(config, closers), tenantId, { rateLimitPerSecond }));
  } catch (err) {
    if (!(err instanceof DataDirLockedError)) throw err;
    updated = (await viaRunningGateway(
      config,
      err,
      'PATCH',
      `/v1/tenants/${encodeURIComponent(tenantId)}`,
      { rateLimitPerSecond },
      200,
    )) as typeof updated;
  }
  const plan =
    updated.rateLimitPerSecond === null
      ? "the operator's default (TRAMLINE_RATE_LIMIT_PER_TENANT)"
      : `${updated.rateLimitPerSecond} requests/s`;
  process.stdout.write(`Tenant ${updated.id} (${updated.name}): ${plan}\n`);
}

function parseLimit(v: string): number | null {
  if (v === 'none') return null;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 10_000_000)
    throw new Error(`Invalid limit ${JSON.stringify(v)}: a whole number of requests per second (1 to 10000000), or none`);
  return n;
}

async function viaRunningGateway(
  config: Config,
  lockErr: Error,
  method: string,
  route: string,
  body: unknown,
  expected: number,
): Promise<unknown> {
  const token = config.operatorToken ?? readOperatorToken(config.dataDir);
  if (!token) throw lockErr;
  const record = readGatewayRecord(config.dataDir);
  if (!record) {
    throw new Error(
      `${lockErr.message}\nIt left no address in ${config.dataDir}/gateway.json (a gateway serving the API writes one), so the operator token was not sent anywhere.`,
    );
  }
  const gw = await identifyGateway(record.url, { operatorToken: token });
  let res: Response;
  try {
    res = await fetch(`${gw.url}${route}`, {
      method,
      redirect: 'error',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new Error(`The running gateway at ${gw.url} could not be reached: ${(err as Error).message}`);
  }
  if (res.status !== expected) throw new Error(`The running gateway at ${gw.url} refused: ${res.status} ${await res.text()}`);
  return res.json();
}
