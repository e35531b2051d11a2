// The probe's own dashboard user: a viewer it creates with its admin key (invitation + acceptance over the
// API), so the browser step signs in through the real sign-in form without anyone handing the probe a
// password. The password lives in this process only; a restarted probe replaces the user.
import { randomBytes } from 'node:crypto';
import { apiClient, type ApiClient } from './api.ts';
import { StepError } from './step.ts';

export interface DashboardLogin {
  email: string;
  password: string;
}

/** What the probe remembers between the runs of one process (loop mode). */
export interface ProbeMemory {
  login?: DashboardLogin;
}

interface User {
  id: string;
  email: string;
  status: 'active' | 'invited';
}

/**
 * One user per probe consumer, on a reserved domain (`.invalid` never resolves, RFC 2606) so nobody
 * mistakes it for a person. Characters an email's local part may not hold become `-`.
 */
export const probeUserEmail = (consumer: string): string =>
  `${consumer.replace(/[^A-Za-z0-9_+-]/g, '-').slice(0, 64)}@probe.tramline.invalid`;

/**
 * The login the browser step uses: the remembered one, or a new viewer. A user of that email whose
 * password this process does not know (left by an earlier probe process) is deleted first; an invited
 * one is invited again (the old link stops working). Answers what it changed, for the run's summary.
 */
export async function ensureDashboardLogin(
  api: ApiClient,
  baseUrl: string,
  consumer: string,
  memory: ProbeMemory,
  signal: AbortSignal,
): Promise<{ login: DashboardLogin; changes: string[] }> {
  if (memory.login) return { login: memory.login, changes: [] };
  const email = probeUserEmail(consumer);
  const changes: string[] = [];
  const users = (await api.request<{ data: User[] }>('GET', '/v1/users', { signal })).body.data;
  const old = users.find((u) => u.email === email);
  if (old?.status === 'active') {
    await api.request('DELETE', `/v1/users/${encodeURIComponent(old.id)}`, { signal, accept: [204, 404] });
    changes.push(`replaced dashboard user ${email} (its password was not this probe's)`);
  }
  const invited = await api.request<{ user: User; inviteToken: string }>('POST', '/v1/users', {
    body: { email, role: 'viewer' },
    signal,
    accept: [201],
  });
  const password = randomBytes(24).toString('base64url');
  // Accepting signs the new user in: end that session at once, the browser opens its own.
  const pub = apiClient(baseUrl, null);
  const accepted = await pub.request<{ csrfToken: string }>('POST', '/v1/auth/accept-invite', {
    body: { token: invited.body.inviteToken, password },
    signal,
  });
  const cookie = accepted.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ');
  if (!cookie) throw new StepError('accepting the probe user’s invitation set no session cookie');
  await pub.request('POST', '/v1/auth/sign-out', {
    headers: { cookie, 'x-csrf-token': accepted.body.csrfToken },
    signal,
    accept: [204],
  });
  if (!old || old.status !== 'active') changes.push(`created dashboard user ${email} (viewer)`);
  memory.login = { email, password };
  return { login: memory.login, changes };
}
