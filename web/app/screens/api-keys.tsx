import { useState } from 'react';
import { seg, type Page } from '../../shared/api.ts';
import { fmtDate } from '../../shared/format.ts';
import { ActionButton, Async, Badge, Empty, Field, Form, useAsync } from '../../shared/ui.tsx';
import type { Ctx } from '../app.tsx';

interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  scopes: string[];
  createdAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export function ApiKeys({ ctx }: { ctx: Ctx }) {
  const list = useAsync(() => ctx.api.get<Page<ApiKey>>('/v1/api-keys', { limit: 100 }), [ctx.api]);
  const [created, setCreated] = useState<string>();
  const [adding, setAdding] = useState(false);
  return (
    <>
      {ctx.isOwner && !adding && (
        <div className="row">
          <button type="button" className="btn primary" onClick={() => setAdding(true)}>
            New API key
          </button>
        </div>
      )}
      {adding && (
        <Form
          label="New API key"
          submitLabel="Create key"
          onCancel={() => setAdding(false)}
          onSubmit={async (f) => {
            const k = await ctx.api.post<ApiKey & { apiKey?: string; key?: string }>('/v1/api-keys', { name: String(f.get('name') ?? ''), scopes: f.getAll('scopes').map(String) });
            setCreated(k.apiKey ?? k.key);
            setAdding(false);
            list.reload();
          }}
        >
          <Field label="Name">{(p) => <input {...p} name="name" />}</Field>
          <fieldset className="field">
            <legend>Scopes</legend>
            <div className="checks">
              {['admin', 'publish', 'read'].map((s) => (
                <label key={s} className="check">
                  <input type="checkbox" name="scopes" value={s} defaultChecked={s !== 'admin'} /> {s}
                </label>
              ))}
            </div>
          </fieldset>
        </Form>
      )}
      {created && (
        <div className="card notice" role="status">
          <p>Copy this key now: it is shown only once.</p>
          <code className="secret-value">{created}</code>
        </div>
      )}
      <Async state={list} what="Loading API keys">
        {(p) =>
          p.data.length === 0 ? (
            <Empty>No API keys.</Empty>
          ) : (
            <div className="table-wrap">
              <table aria-label="API keys">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Prefix</th>
                    <th scope="col">Scopes</th>
                    <th scope="col">Last used</th>
                    <th scope="col">State</th>
                    <th scope="col">
                      <span className="sr-only">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {p.data.map((k) => (
                    <tr key={k.id}>
                      <td>{k.name || '—'}</td>
                      <td>
                        <code>{k.prefix}</code>
                      </td>
                      <td>{k.scopes.join(', ')}</td>
                      <td>{fmtDate(k.lastUsedAt)}</td>
                      <td>{k.revokedAt ? <Badge tone="bad">revoked</Badge> : <Badge tone="ok">active</Badge>}</td>
                      <td>
                        {ctx.isOwner && !k.revokedAt && (
                          <ActionButton
                            className="btn danger"
                            aria-label={`Revoke key ${k.name || k.prefix}`}
                            confirm="Revoke this key? Requests with it stop working at once."
                            onAction={async () => {
                              await ctx.api.del(`/v1/api-keys/${seg(k.id)}`);
                              list.reload();
                            }}
                          >
                            Revoke
                          </ActionButton>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Async>
    </>
  );
}
