import type { Config } from '../config.ts';
import { createTenant } from '../domain/tenants.ts';
import { DataDirLockedError } from '../store/db.ts';
import { openStore } from '../store/open.ts';
import { readOperatorToken } from '../operator-token.ts';
import { createCipher } from '../main.ts';

/**
 * Creates a tenant directly in the database, or, when the embedded data folder is held by a
 * running gateway, through that gateway's API with the operator token.
 */
export async function runTenantsCreate(config: Config, name: string): Promise<void> {
  let created: { id: string; name: string; apiKey: string };
  try {
    const { db, release } = await openStore(config);
    try {
      const r = await createTenant({ db, clock: () => new Date(), egressAllow: config.egressAllow, cipher: createCipher(config, db) }, { name });
      created = { id: r.tenant.id, name: r.tenant.name, apiKey: r.apiKey };
    } finally {
      await db.close();
      release();
    }
  } catch (err) {
    if (!(err instanceof DataDirLockedError)) throw err;
    created = await viaRunningGateway(config, name, err);
  }
  process.stdout.write(`Tenant ${created.id} (${created.name})\nAPI key (shown once): ${created.apiKey}\n`);
}

async function viaRunningGateway(config: Config, name: string, lockErr: Error): Promise<{ id: string; name: string; apiKey: string }> {
  const token = config.operatorToken ?? readOperatorToken(config.dataDir);
  if (!token) throw lockErr;
  const url = `http://127.0.0.1:${config.port}/v1/tenants`;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ name }) });
  } catch {
    throw lockErr;
  }
  if (res.status !== 201) throw new Error(`The running gateway refused: ${res.status} ${await res.text()}`);
  return (await res.json()) as { id: string; name: string; apiKey: string };
}
