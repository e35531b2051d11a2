import { useEffect, useMemo, useState } from 'react';
import { ApiError, createApi, type Api, type Session } from '../shared/api.ts';
import { applyTheme } from '../shared/theme.ts';
import { ErrorBox, Field, Form, Loading } from '../shared/ui.tsx';
import { href, match, navigate, usePath } from '../shared/router.ts';
import * as S from './screens.tsx';

export interface Ctx {
  api: Api;
  session: Session;
  canChange: boolean;
  isOwner: boolean;
  signOut: () => Promise<void>;
}

async function getSession(): Promise<Session | null> {
  const res = await fetch('/v1/auth/session', { credentials: 'same-origin', headers: { accept: 'application/json' } });
  if (res.status === 401) return null;
  if (!res.ok) throw new ApiError(res.status, `The session check answered ${res.status}`);
  return (await res.json()) as Session;
}

/** Tells the service worker to drop every cache (sign-out: nothing of this user's stays on the device). */
export async function clearCaches(): Promise<void> {
  navigator.serviceWorker?.controller?.postMessage({ type: 'clear' });
  if ('caches' in window) for (const k of await caches.keys()) await caches.delete(k);
}

export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [error, setError] = useState<unknown>();
  const { path } = usePath();
  const load = () => {
    setError(undefined);
    getSession().then(setSession, setError);
  };
  useEffect(load, []);
  useEffect(() => {
    if (session === undefined) return;
    performance.mark('tramline:interactive');
  }, [session]);

  const ctx = useMemo<Ctx | null>(() => {
    if (!session) return null;
    return {
      session,
      api: createApi({ kind: 'cookie', csrfToken: session.csrfToken }, () => setSession(null)),
      canChange: session.user.role !== 'viewer',
      isOwner: session.user.role === 'owner',
      signOut: async () => {
        await fetch('/v1/auth/sign-out', { method: 'POST', credentials: 'same-origin', headers: { 'x-csrf-token': session.csrfToken } }).catch(() => undefined);
        await clearCaches();
        setSession(null);
        navigate('/', true);
      },
    };
  }, [session]);

  useEffect(() => {
    if (!ctx) return;
    ctx.api.get<{ branding: import('../shared/api.ts').Branding }>('/v1/settings').then((s) => applyTheme(s.branding), () => undefined);
  }, [ctx]);

  if (error) return <div className="center"><ErrorBox error={error} retry={load} /></div>;
  if (session === undefined) return <div className="center"><Loading what="Opening the dashboard" /></div>;
  if (path.startsWith('/accept-invite')) return <AcceptInvite onDone={load} />;
  if (path.startsWith('/reset-password')) return <ResetPassword />;
  if (!ctx) return <SignIn onSignedIn={setSession} />;
  return <Shell ctx={ctx} path={path} />;
}

function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [tenants, setTenants] = useState<Array<{ id: string; name: string }>>();
  useEffect(() => {
    document.title = 'Sign in · Tramline';
    if (performance.getEntriesByName('tramline:ready').length === 0) performance.mark('tramline:ready');
  }, []);
  return (
    <main className="center" id="main">
      <div className="card">
        <h1>Sign in to Tramline</h1>
        <Form
          label="Sign in"
          submitLabel="Sign in"
          onSubmit={async (f) => {
            const res = await fetch('/v1/auth/sign-in', {
              method: 'POST',
              credentials: 'same-origin',
              headers: { 'content-type': 'application/json', accept: 'application/json' },
              body: JSON.stringify({ email: f.get('email'), password: f.get('password'), ...(f.get('tenant') ? { tenant: f.get('tenant') } : {}) }),
            });
            const body = (await res.json().catch(() => ({}))) as Session & { title?: string; detail?: string; tenants?: Array<{ id: string; name: string }> };
            if (res.status === 409 && body.tenants) {
              setTenants(body.tenants);
              throw new ApiError(409, 'This account belongs to several organisations', 'Choose one and sign in again.');
            }
            if (res.status === 429) throw new ApiError(429, 'Too many failed attempts', `Try again in ${res.headers.get('retry-after') ?? 'a few'} seconds.`);
            if (!res.ok) throw new ApiError(res.status, res.status === 401 ? 'Wrong email or password' : (body.title ?? 'Sign-in failed'), res.status === 401 ? undefined : body.detail);
            onSignedIn(body);
          }}
        >
          <Field label="Email">{(p) => <input {...p} name="email" type="email" autoComplete="username" required autoFocus />}</Field>
          <Field label="Password">{(p) => <input {...p} name="password" type="password" autoComplete="current-password" required />}</Field>
          {tenants && (
            <Field label="Organisation">
              {(p) => (
                <select {...p} name="tenant">
                  {tenants.map((t) => (
                    <option key={t.id} value={t.id}>
                      {t.name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          )}
        </Form>
      </div>
    </main>
  );
}

function AcceptInvite({ onDone }: { onDone: () => void }) {
  const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? new URLSearchParams(location.search).get('token') ?? '';
  return (
    <main className="center" id="main">
      <div className="card">
        <h1>Join your team on Tramline</h1>
        <Form
          label="Accept invitation"
          submitLabel="Set password and sign in"
          onSubmit={async (f) => {
            const res = await fetch('/v1/auth/accept-invite', {
              method: 'POST',
              credentials: 'same-origin',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ token, password: f.get('password') }),
            });
            if (!res.ok) {
              const p = (await res.json().catch(() => ({}))) as { title?: string; detail?: string };
              throw new ApiError(res.status, p.title ?? 'The invitation could not be accepted', p.detail);
            }
            navigate('/', true);
            onDone();
          }}
        >
          <Field label="New password" hint="At least 12 characters">
            {(p) => <input {...p} name="password" type="password" autoComplete="new-password" minLength={12} required />}
          </Field>
        </Form>
      </div>
    </main>
  );
}

/** The page a password reset link opens: the token is in the fragment (never sent to a server in a Referer or a log). */
function ResetPassword() {
  const [token] = useState(() => new URLSearchParams(location.hash.slice(1)).get('token') ?? '');
  const [done, setDone] = useState(false);
  useEffect(() => {
    document.title = 'Set a new password · Tramline';
    // The token has done its work once read: keep it out of the history and of anything that reads the address.
    if (location.hash) history.replaceState(null, '', location.pathname);
  }, []);
  return (
    <main className="center" id="main">
      <div className="card">
        <h1>Set a new password</h1>
        {done ? (
          <div role="status">
            <p>Your password is changed, and every session of yours has ended.</p>
            <p>
              <a className="btn primary" href={href('/')}>
                Sign in
              </a>
            </p>
          </div>
        ) : !token ? (
          <p role="alert">This page needs the link you were given (it carries a token after #). Ask an owner of your organisation for a new one.</p>
        ) : (
          <Form
            label="Set a new password"
            submitLabel="Set password"
            onSubmit={async (f) => {
              const res = await fetch('/v1/auth/reset-password', {
                method: 'POST',
                credentials: 'same-origin',
                headers: { 'content-type': 'application/json' },
                body: JSON.stringify({ token, password: f.get('password') }),
              });
              if (!res.ok) {
                const p = (await res.json().catch(() => ({}))) as { title?: string; detail?: string };
                throw new ApiError(res.status, p.title ?? 'The password could not be changed', p.detail);
              }
              await clearCaches();
              setDone(true);
            }}
          >
            <Field label="New password" hint="At least 12 characters">
              {(p) => <input {...p} name="password" type="password" autoComplete="new-password" minLength={12} required />}
            </Field>
          </Form>
        )}
      </div>
    </main>
  );
}

const NAV: Array<{ path: string; label: string; show?: (c: Ctx) => boolean }> = [
  { path: '/', label: 'Overview' },
  { path: '/consumers', label: 'Consumers' },
  { path: '/messages', label: 'Messages' },
  { path: '/event-types', label: 'Event types' },
  { path: '/api-keys', label: 'API keys', show: (c) => c.isOwner },
  { path: '/users', label: 'Users', show: (c) => c.isOwner },
  { path: '/audit-log', label: 'Audit log', show: (c) => c.canChange },
  { path: '/settings', label: 'Settings' },
];

function Shell({ ctx, path }: { ctx: Ctx; path: string }) {
  const screen = route(ctx, path);
  useEffect(() => {
    document.title = `${screen.title} · ${ctx.session.tenant.name} · Tramline`;
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [screen.title, ctx.session.tenant.name]);
  const current = NAV.filter((n) => n.path !== '/' && path.startsWith(n.path))[0]?.path ?? (path === '/' ? '/' : '');
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="sidebar">
        <div className="brand">
          <span aria-hidden="true">◆</span> {ctx.session.tenant.name}
        </div>
        <nav aria-label="Main">
          <ul className="nav">
            {NAV.filter((n) => !n.show || n.show(ctx)).map((n) => (
              <li key={n.path}>
                <a href={href(n.path)} aria-current={current === n.path ? 'page' : undefined}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span>
            {ctx.session.user.email} <span className="badge neutral">{ctx.session.user.role}</span>
          </span>
          <button type="button" className="btn" onClick={() => void ctx.signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <div className="page-head">
          <h1>{screen.title}</h1>
        </div>
        {screen.node}
      </main>
    </div>
  );
}

function route(ctx: Ctx, path: string): { title: string; node: React.ReactNode } {
  let m: Record<string, string> | null;
  if (path === '/' || path === '') return { title: 'Overview', node: <S.Overview ctx={ctx} /> };
  if (path === '/consumers') return { title: 'Consumers', node: <S.Consumers ctx={ctx} /> };
  if ((m = match('/consumers/:c/endpoints/:e', path))) return { title: 'Endpoint', node: <S.EndpointScreen ctx={ctx} consumer={m.c!} endpoint={m.e!} /> };
  if ((m = match('/consumers/:c/messages/:m', path))) return { title: 'Message', node: <S.MessageScreen ctx={ctx} consumer={m.c!} message={m.m!} /> };
  if ((m = match('/consumers/:c', path))) return { title: 'Consumer', node: <S.ConsumerScreen ctx={ctx} consumer={m.c!} /> };
  if (path === '/messages') return { title: 'Messages', node: <S.Messages ctx={ctx} /> };
  if (path === '/event-types') return { title: 'Event types', node: <S.EventTypes ctx={ctx} /> };
  if (path === '/api-keys') return { title: 'API keys', node: <S.ApiKeys ctx={ctx} /> };
  if (path === '/users') return { title: 'Users', node: <S.Users ctx={ctx} /> };
  if (path === '/audit-log') return { title: 'Audit log', node: <S.AuditLog ctx={ctx} /> };
  if (path === '/settings') return { title: 'Settings', node: <S.SettingsScreen ctx={ctx} /> };
  return { title: 'Not found', node: <p>There is nothing at this address. <a href={href('/')}>Go to the overview</a>.</p> };
}
