import { useState } from 'react';
import { seg, type Page, type Role, type User } from '../../shared/api.ts';
import { fmtDate } from '../../shared/format.ts';
import { ActionButton, Async, Badge, Empty, Field, Form, useAsync } from '../../shared/ui.tsx';
import type { Ctx } from '../app.tsx';

export function Users({ ctx }: { ctx: Ctx }) {
  const list = useAsync(() => ctx.api.get<Page<User> | User[]>('/v1/users').then((x) => (Array.isArray(x) ? x : x.data)), [ctx.api]);
  const sessions = useAsync(
    () => ctx.api.get<Page<{ id: string; createdAt: string; lastSeenAt?: string; userAgent?: string; ip?: string; current?: boolean }>>('/v1/auth/sessions').then((x) => (Array.isArray(x) ? x : x.data)),
    [ctx.api],
  );
  const [invite, setInvite] = useState<string>();
  const [resetLink, setResetLink] = useState<{ email: string; url: string; expiresAt: string }>();
  const [adding, setAdding] = useState(false);
  return (
    <>
      {ctx.isOwner && !adding && (
        <div className="row">
          <button type="button" className="btn primary" onClick={() => setAdding(true)}>
            Invite a user
          </button>
        </div>
      )}
      {adding && (
        <Form
          label="Invite a user"
          submitLabel="Invite"
          onCancel={() => setAdding(false)}
          onSubmit={async (f) => {
            const r = await ctx.api.post<{ user: User; inviteUrl: string }>('/v1/users', { email: String(f.get('email')), role: String(f.get('role')) });
            setInvite(r.inviteUrl);
            setAdding(false);
            list.reload();
          }}
        >
          <Field label="Email">{(p) => <input {...p} name="email" type="email" required />}</Field>
          <Field label="Role">
            {(p) => (
              <select {...p} name="role" defaultValue="developer">
                <option value="owner">owner</option>
                <option value="developer">developer</option>
                <option value="viewer">viewer</option>
              </select>
            )}
          </Field>
        </Form>
      )}
      {invite && (
        <div className="card notice" role="status">
          <p>Send this invitation link to the new user (shown once):</p>
          <code className="secret-value">{invite}</code>
        </div>
      )}
      {resetLink && (
        <div className="card notice" role="status">
          <p>
            Send this password reset link to {resetLink.email} (shown once; it works once, until {fmtDate(resetLink.expiresAt)}). Setting the new password signs
            them out everywhere.
          </p>
          <code className="secret-value break">{resetLink.url}</code>
        </div>
      )}
      <Async state={list} what="Loading users">
        {(users) =>
          users.length === 0 ? (
            <Empty>No users.</Empty>
          ) : (
            <ul className="list" aria-label="Users">
              {users.map((u) => (
                <li key={u.id} className="list-item">
                  <span className="strong">{u.email}</span>
                  <div className="row">
                    {ctx.isOwner && u.id !== ctx.session.user.id ? (
                      <>
                        <label className="muted" htmlFor={`role-${u.id}`}>
                          Role
                        </label>
                        <select
                          id={`role-${u.id}`}
                          style={{ width: 'auto' }}
                          defaultValue={u.role}
                          onChange={async (e) => {
                            await ctx.api.patch(`/v1/users/${seg(u.id)}`, { role: e.target.value as Role }).catch((err: Error) => alert(err.message));
                            list.reload();
                          }}
                        >
                          <option value="owner">owner</option>
                          <option value="developer">developer</option>
                          <option value="viewer">viewer</option>
                        </select>
                        {u.status === 'active' && (
                          <ActionButton
                            onAction={async () => {
                              const r = await ctx.api.post<{ resetUrl: string; expiresAt: string }>(`/v1/users/${seg(u.id)}/password-reset`);
                              setResetLink({ email: u.email, url: new URL(r.resetUrl, location.origin).href, expiresAt: r.expiresAt });
                            }}
                          >
                            Password reset link
                          </ActionButton>
                        )}
                        <ActionButton
                          className="btn danger"
                          confirm={`Remove ${u.email}?`}
                          onAction={async () => {
                            await ctx.api.del(`/v1/users/${seg(u.id)}`);
                            list.reload();
                          }}
                        >
                          Remove
                        </ActionButton>
                      </>
                    ) : (
                      <Badge tone="neutral">{u.role}</Badge>
                    )}
                  </div>
                </li>
              ))}
            </ul>
          )
        }
      </Async>
      <h2>Your sessions</h2>
      <Async state={sessions} what="Loading sessions">
        {(xs) =>
          xs.length === 0 ? (
            <Empty>No sessions.</Empty>
          ) : (
            <ul className="list" aria-label="Sessions">
              {xs.map((s) => (
                <li key={s.id} className="list-item">
                  <span>
                    {s.userAgent ?? 'Browser'} {s.current && <Badge tone="ok">this device</Badge>}
                  </span>
                  <span className="meta">
                    signed in {fmtDate(s.createdAt)}
                    {s.ip ? ` from ${s.ip}` : ''}
                  </span>
                  {!s.current && (
                    <ActionButton
                      onAction={async () => {
                        await ctx.api.del(`/v1/auth/sessions/${seg(s.id)}`);
                        sessions.reload();
                      }}
                    >
                      Revoke
                    </ActionButton>
                  )}
                </li>
              ))}
            </ul>
          )
        }
      </Async>
    </>
  );
}
