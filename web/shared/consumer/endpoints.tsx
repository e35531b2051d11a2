import { useState } from 'react';
import { seg, type Api, type Attempt, type Endpoint, type Message, type Page } from '../api.ts';
import { fmtDate, fmtMs } from '../format.ts';
import { href, navigate } from '../router.ts';
import { ActionButton, Async, Badge, Empty, Field, Form, Secret, StateBadge, splitList, useAsync } from '../ui.tsx';
import { type ConsumerCtx, cpath, useEventTypes } from './context.ts';

export function EndpointList({ ctx }: { ctx: ConsumerCtx }) {
  const { api, consumer } = ctx;
  const list = useAsync(() => api.get<Page<Endpoint>>(`${cpath(consumer)}/endpoints`, { limit: 100 }), [api, consumer]);
  const [adding, setAdding] = useState(false);
  return (
    <section aria-labelledby="endpoints-h">
      <div className="section-head">
        <h2 id="endpoints-h">Endpoints</h2>
        {ctx.canChange && !adding && (
          <button type="button" className="btn primary" onClick={() => setAdding(true)}>
            Add endpoint
          </button>
        )}
      </div>
      {adding && (
        <EndpointForm
          ctx={ctx}
          onDone={(ep) => {
            setAdding(false);
            if (ep) navigate(ctx.paths.endpoint(ep.id));
          }}
        />
      )}
      <Async state={list} what="Loading endpoints">
        {(page) =>
          page.data.length === 0 ? (
            <Empty>No endpoints yet.{ctx.canChange ? ' Add one to start receiving events.' : ''}</Empty>
          ) : (
            <ul className="list" aria-label="Endpoints">
              {page.data.map((e) => (
                <li key={e.id} className="list-item">
                  <a href={href(ctx.paths.endpoint(e.id))} className="strong break">
                    {e.url}
                  </a>
                  <span className="meta">
                    {e.disabled ? <Badge tone="bad">disabled</Badge> : <Badge tone="ok">enabled</Badge>}{' '}
                    {e.eventTypes?.length ? e.eventTypes.join(', ') : 'all event types'}
                    {e.description ? ` · ${e.description}` : ''}
                  </span>
                </li>
              ))}
            </ul>
          )
        }
      </Async>
    </section>
  );
}

function EndpointForm({ ctx, endpoint, onDone }: { ctx: ConsumerCtx; endpoint?: Endpoint; onDone: (e?: Endpoint) => void }) {
  const types = useEventTypes(ctx.api);
  return (
    <Form
      label={endpoint ? 'Edit endpoint' : 'New endpoint'}
      submitLabel={endpoint ? 'Save' : 'Create endpoint'}
      onCancel={() => onDone()}
      onSubmit={async (f) => {
        const rate = String(f.get('rateLimitPerSecond') ?? '').trim();
        const body = {
          url: String(f.get('url') ?? '').trim(),
          description: String(f.get('description') ?? ''),
          eventTypes: f.getAll('eventTypes').length ? f.getAll('eventTypes').map(String) : splitList(f.get('eventTypesText')),
          channels: splitList(f.get('channels')),
          rateLimitPerSecond: rate ? Number(rate) : null,
        };
        const ep = endpoint
          ? await ctx.api.patch<Endpoint>(`${cpath(ctx.consumer)}/endpoints/${seg(endpoint.id)}`, body)
          : await ctx.api.post<Endpoint>(`${cpath(ctx.consumer)}/endpoints`, body);
        onDone(ep);
      }}
    >
      <Field label="URL" hint="HTTPS address that receives the events">
        {(p) => <input {...p} name="url" type="url" required defaultValue={endpoint?.url} placeholder="https://example.com/webhooks" />}
      </Field>
      <Field label="Description">{(p) => <input {...p} name="description" defaultValue={endpoint?.description} />}</Field>
      {types.data && types.data.length > 0 ? (
        <fieldset className="field">
          <legend>Event types (none selected: all)</legend>
          <div className="checks">
            {types.data
              .filter((t) => !t.archived)
              .map((t) => (
                <label key={t.name} className="check">
                  <input type="checkbox" name="eventTypes" value={t.name} defaultChecked={endpoint?.eventTypes?.includes(t.name)} /> {t.name}
                </label>
              ))}
          </div>
        </fieldset>
      ) : (
        <Field label="Event types" hint="Comma-separated; empty: all">
          {(p) => <input {...p} name="eventTypesText" defaultValue={endpoint?.eventTypes?.join(', ')} />}
        </Field>
      )}
      <Field label="Channels" hint="Comma-separated; empty: all">
        {(p) => <input {...p} name="channels" defaultValue={endpoint?.channels?.join(', ')} />}
      </Field>
      <Field label="Rate limit (requests per second)" hint="Empty: no limit">
        {(p) => <input {...p} name="rateLimitPerSecond" type="number" min={1} inputMode="numeric" defaultValue={endpoint?.rateLimitPerSecond ?? ''} />}
      </Field>
    </Form>
  );
}

export function EndpointView({ ctx, endpointId }: { ctx: ConsumerCtx; endpointId: string }) {
  const { api, consumer } = ctx;
  const path = `${cpath(consumer)}/endpoints/${seg(endpointId)}`;
  const ep = useAsync(() => api.get<Endpoint>(path), [api, path]);
  const attempts = useAsync(() => api.get<Page<Attempt>>(`${path}/attempts`, { limit: 20 }), [api, path], 3000);
  const [editing, setEditing] = useState(false);
  const [testMessage, setTestMessage] = useState<string>();
  return (
    <Async state={ep} what="Loading endpoint">
      {(e) => (
        <>
          <p>
            <a href={href(ctx.paths.endpoints)}>← Endpoints</a>
          </p>
          <div className="section-head">
            <h2 className="break">{e.url}</h2>
            {e.disabled ? <Badge tone="bad">disabled</Badge> : <Badge tone="ok">enabled</Badge>}
          </div>
          {e.disabledReason && <p className="muted">Disabled: {e.disabledReason}</p>}
          {editing ? (
            <EndpointForm
              ctx={ctx}
              endpoint={e}
              onDone={(x) => {
                setEditing(false);
                if (x) ep.reload();
              }}
            />
          ) : (
            <dl className="props card">
              <dt>Id</dt>
              <dd>
                <code>{e.id}</code>
              </dd>
              <dt>Description</dt>
              <dd>{e.description || '—'}</dd>
              <dt>Event types</dt>
              <dd>{e.eventTypes?.join(', ') || 'all'}</dd>
              <dt>Channels</dt>
              <dd>{e.channels?.join(', ') || 'all'}</dd>
              <dt>Rate limit</dt>
              <dd>{e.rateLimitPerSecond ? `${e.rateLimitPerSecond}/s` : 'none'}</dd>
              <dt>Created</dt>
              <dd>{fmtDate(e.createdAt)}</dd>
            </dl>
          )}
          {ctx.canChange && !editing && (
            <div className="row">
              <button type="button" className="btn" onClick={() => setEditing(true)}>
                Edit
              </button>
              <ActionButton
                onAction={async () => {
                  await api.patch(path, { disabled: !e.disabled });
                  ep.reload();
                }}
              >
                {e.disabled ? 'Enable' : 'Disable'}
              </ActionButton>
              {ctx.canPublish && (
                <ActionButton
                  data-testid="send-test"
                  onAction={async () => {
                    const m = await api.post<Message>(`${cpath(consumer)}/messages`, {
                      eventType: e.eventTypes?.[0] ?? 'tramline.test',
                      payload: { test: true, endpoint: e.id, sentAt: new Date().toISOString() },
                      ...(e.channels?.length ? { channels: [e.channels[0]] } : {}),
                    });
                    setTestMessage(m.id);
                    attempts.reload();
                  }}
                >
                  Send test event
                </ActionButton>
              )}
              <ActionButton
                className="btn danger"
                confirm="Delete this endpoint? Its deliveries stop."
                onAction={async () => {
                  await api.del(path);
                  navigate(ctx.paths.endpoints);
                }}
              >
                Delete
              </ActionButton>
            </div>
          )}
          {testMessage && (
            <p role="status" className="notice">
              Test event sent: <a href={href(ctx.paths.message(testMessage))}>{testMessage}</a>. Its attempt appears below.
            </p>
          )}
          <section aria-labelledby="secret-h">
            <h3 id="secret-h">Signing secret</h3>
            <Secret
              canChange={ctx.canChange}
              load={async () => (await api.get<{ secret: string }>(`${path}/secret`)).secret}
              rotate={async () => (await api.post<{ secret: string }>(`${path}/secret/rotate`, {})).secret}
            />
          </section>
          {ctx.canChange && <Recover api={api} path={path} />}
          <section aria-labelledby="attempts-h">
            <h3 id="attempts-h">Recent attempts</h3>
            <Async state={attempts} what="Loading attempts">
              {(p) => (p.data.length === 0 ? <Empty>No attempts yet.</Empty> : <AttemptTable attempts={p.data} ctx={ctx} />)}
            </Async>
          </section>
        </>
      )}
    </Async>
  );
}

function Recover({ api, path }: { api: Api; path: string }) {
  const [done, setDone] = useState<number>();
  const def = new Date(Date.now() - 24 * 3600_000).toISOString().slice(0, 16);
  return (
    <section aria-labelledby="recover-h">
      <h3 id="recover-h">Recover failed messages</h3>
      <Form
        label="Recover"
        submitLabel="Recover"
        onSubmit={async (f) => {
          const since = new Date(String(f.get('since'))).toISOString();
          setDone((await api.post<{ recovered: number }>(`${path}/recover`, { since })).recovered);
        }}
      >
        <Field label="Send again every failed delivery since">{(p) => <input {...p} name="since" type="datetime-local" required defaultValue={def} />}</Field>
        {done !== undefined && <p role="status">{done} deliveries queued again.</p>}
      </Form>
    </section>
  );
}

function AttemptTable({ attempts, ctx }: { attempts: Attempt[]; ctx: ConsumerCtx }) {
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Outcome</th>
            <th scope="col">Status</th>
            <th scope="col">Duration</th>
            <th scope="col">Message</th>
          </tr>
        </thead>
        <tbody>
          {attempts.map((a) => (
            <tr key={a.id}>
              <td>{fmtDate(a.startedAt)}</td>
              <td>
                <StateBadge state={a.outcome} />
              </td>
              <td>{a.statusCode ?? a.error ?? '—'}</td>
              <td>{fmtMs(a.durationMs)}</td>
              <td>
                <a href={href(ctx.paths.message(a.messageId))}>{a.messageId}</a>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
