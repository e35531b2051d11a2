import type { Config } from '../config.ts';
import { withClosers } from '../boot/closers.ts';
import { DataDirLockedError, openDeps } from '../boot/deps.ts';
import { readOperatorToken } from '../boot/operator-token.ts';
import { createUserWithPassword, ROLES, type Role, type User } from '../domain/users.ts';
import { issuePasswordReset } from '../domain/password-resets.ts';
import { generatePassword } from '../domain/passwords.ts';
import { readGatewayRecord } from './gateway-record.ts';
import { identifyGateway } from './identify.ts';

export interface UsersCreateOptions {
  tenant: string;
  email: string;
  role?: string | undefined;
}

/**
 * `tramline users create --tenant ten_… --email a@b.c [--role owner]`: a dashboard user with a
 * password, typically a tenant's first owner. The password is read from stdin when stdin is not a
 * terminal (`echo "$PW" | tramline users create …`); otherwise one is generated and printed once.
 * Like `tenants create`, it writes to the database directly, or, when the embedded data folder is
 * held by a running gateway, goes through that gateway's API with the operator token, after checking
 * that the gateway is Tramline and knows that token (GET /.well-known/tramline with a challenge).
 */
export async function runUsersCreate(
  config: Config,
  opts: UsersCreateOptions,
  io: { stdin: NodeJS.ReadStream; stdout: NodeJS.WriteStream } = process,
): Promise<void> {
  const role = (opts.role ?? 'owner') as Role;
  if (!ROLES.includes(role)) throw new Error(`--role must be one of ${ROLES.join(', ')}`);
  const piped = !io.stdin.isTTY ? (await readAll(io.stdin)).replace(/\r?\n$/, '') : '';
  const password = piped || generatePassword();
  let user: Pick<User, 'id' | 'email' | 'role'>;
  try {
    user = await withClosers(async (closers) =>
      createUserWithPassword(await openDeps(config, closers), opts.tenant, { email: opts.email, password, role }),
    );
  } catch (err) {
    if (!(err instanceof DataDirLockedError)) throw err;
    user = await viaRunningGateway(config, opts.tenant, { email: opts.email, password, role }, err);
  }
  io.stdout.write(`User ${user.id} (${user.email}, ${user.role}) in tenant ${opts.tenant}\n`);
  if (!piped) io.stdout.write(`Password (shown once): ${password}\n`);
}

async function readAll(stream: NodeJS.ReadStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
  return Buffer.concat(chunks).toString('utf8');
}

/** Through the gateway that holds the data folder: the one it recorded, once it proved it knows the operator token. */
async function viaRunningGateway(
  config: Config,
  tenant: string,
  body: { email: string; password: string; role: Role },
  lockErr: Error,
): Promise<User> {
  return operatorPost(config, `/v1/tenants/${encodeURIComponent(tenant)}/users`, body, lockErr);
}

async function operatorPost<T>(config: Config, path: string, body: unknown, lockErr: Error): Promise<T> {
  const token = config.operatorToken ?? readOperatorToken(config.dataDir);
  if (!token) throw lockErr;
  const record = readGatewayRecord(config.dataDir);
  if (!record)
    throw new Error(
      `${lockErr.message}\nIt left no address in ${config.dataDir}/gateway.json, so the operator token was not sent anywhere.`,
    );
  const gw = await identifyGateway(record.url, { operatorToken: token });
  const res = await fetch(`${gw.url}${path}`, {
    method: 'POST',
    redirect: 'error',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  if (res.status !== 201) throw new Error(`The running gateway at ${gw.url} refused: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/**
 * `tramline users reset-password --tenant ten_… --email a@b.c`: a one-time reset link (an hour, once) for
 * a user who cannot sign in, printed for the operator to pass on; no mail is sent. Direct to the
 * database, or through the running gateway that holds the embedded data folder (as `users create`).
 * Links are absolute when TRAMLINE_PUBLIC_URL is set, relative to the gateway otherwise.
 */
export async function runUsersResetPassword(
  config: Config,
  opts: { tenant: string; email: string },
  io: { stdout: NodeJS.WriteStream } = process,
): Promise<void> {
  let issued: { user: Pick<User, 'id' | 'email'>; resetUrl: string; expiresAt: Date | string };
  try {
    issued = await withClosers(async (closers) => {
      const r = await issuePasswordReset(await openDeps(config, closers), opts.tenant, { email: opts.email }, 'operator');
      return { user: r.user, resetUrl: `${config.publicUrl ?? ''}/app/reset-password#token=${r.token}`, expiresAt: r.expiresAt };
    });
  } catch (err) {
    if (!(err instanceof DataDirLockedError)) throw err;
    issued = await operatorPost(config, `/v1/tenants/${encodeURIComponent(opts.tenant)}/password-resets`, { email: opts.email }, err);
  }
  const expires = new Date(issued.expiresAt).toISOString();
  io.stdout.write(`Password reset for ${issued.user.email} (${issued.user.id}), valid once until ${expires}:\n${issued.resetUrl}\n`);
}
