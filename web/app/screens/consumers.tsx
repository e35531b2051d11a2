import { useMemo, useState } from 'react';
import { seg, type Consumer, type Page } from '../../shared/api.ts';
import { EndpointList, EndpointView, MessageLog, MessageView, type ConsumerCtx } from '../../shared/consumer-views.tsx';
import { fmtDate } from '../../shared/format.ts';
import { href, navigate } from '../../shared/router.ts';
import { ActionButton, Async, Empty, Field, Form, useAsync } from '../../shared/ui.tsx';
import type { Ctx } from '../app.tsx';

export function Consumers({ ctx }: { ctx: Ctx }) {
  const [cursor, setCursor] = useState<string>();
  const list = useAsync(() => ctx.api.get<Page<Consumer>>('/v1/consumers', { limit: 50, cursor }), [ctx.api, cursor]);
  const [adding, setAdding] = useState(false);
  return (
    <>
      {ctx.canChange && !adding && (
        <div className="row">
          <button type="button" className="btn primary" onClick={() => setAdding(true)}>
            New consumer
          </button>
        </div>
      )}
      {adding && (
        <Form
          label="New consumer"
          submitLabel="Create consumer"
          onCancel={() => setAdding(false)}
          onSubmit={async (f) => {
            const uid = String(f.get('uid') ?? '').trim();
            const c = await ctx.api.post<Consumer>('/v1/consumers', { name: String(f.get('name')), ...(uid ? { uid } : {}) });
            navigate(`/consumers/${seg(c.id)}`);
          }}
        >
          <Field label="Name">{(p) => <input {...p} name="name" required />}</Field>
          <Field label="Your id for this customer (uid)" hint="Optional; may not start with con_">
            {(p) => <input {...p} name="uid" pattern="[A-Za-z0-9_.:~-]+" />}
          </Field>
        </Form>
      )}
      <Async state={list} what="Loading consumers">
        {(p) =>
          p.data.length === 0 ? (
            <Empty>No consumers yet. A consumer is one of your customers: its endpoints receive your events.</Empty>
          ) : (
            <>
              <ul className="list" aria-label="Consumers">
                {p.data.map((c) => (
                  <li key={c.id} className="list-item">
                    <a className="strong" href={href(`/consumers/${seg(c.id)}`)}>
                      {c.name}
                    </a>
                    <span className="meta">
                      <code>{c.id}</code>
                      {c.uid ? ` · uid ${c.uid}` : ''} · created {fmtDate(c.createdAt)}
                    </span>
                  </li>
                ))}
              </ul>
              <div className="row">
                {cursor && (
                  <button type="button" className="btn" onClick={() => setCursor(undefined)}>
                    First page
                  </button>
                )}
                {p.nextCursor && (
                  <button type="button" className="btn" onClick={() => setCursor(p.nextCursor!)}>
                    Next page
                  </button>
                )}
              </div>
            </>
          )
        }
      </Async>
    </>
  );
}

export function consumerCtx(ctx: Ctx, consumer: string): ConsumerCtx {
  const c = `/consumers/${seg(consumer)}`;
  return {
    api: ctx.api,
    consumer,
    canChange: ctx.canChange,
    canPublish: ctx.canChange,
    paths: { endpoints: c, endpoint: (id) => `${c}/endpoints/${seg(id)}`, message: (id) => `${c}/messages/${seg(id)}` },
  };
}

export function ConsumerScreen({ ctx, consumer }: { ctx: Ctx; consumer: string }) {
  const c = useAsync(() => ctx.api.get<Consumer>(`/v1/consumers/${seg(consumer)}`), [ctx.api, consumer]);
  const cc = useMemo(() => consumerCtx(ctx, consumer), [ctx, consumer]);
  const [portal, setPortal] = useState<{ url: string; expiresAt: string }>();
  const [editing, setEditing] = useState(false);
  const [tab, setTab] = useState<'endpoints' | 'messages'>('endpoints');
  return (
    <Async state={c} what="Loading consumer">
      {(x) => (
        <>
          <p>
            <a href={href('/consumers')}>← Consumers</a>
          </p>
          <h2>{x.name}</h2>
          <p className="meta">
            <code>{x.id}</code>
            {x.uid ? ` · uid ${x.uid}` : ''}
          </p>
          {editing && (
            <Form
              label="Edit consumer"
              submitLabel="Save"
              onCancel={() => setEditing(false)}
              onSubmit={async (f) => {
                const uid = String(f.get('uid') ?? '').trim();
                await ctx.api.patch(`/v1/consumers/${seg(x.id)}`, { name: String(f.get('name')), uid: uid || null });
                setEditing(false);
                c.reload();
              }}
            >
              <Field label="Name">{(p) => <input {...p} name="name" required defaultValue={x.name} />}</Field>
              <Field label="Your id for this customer (uid)" hint="Optional; may not start with con_">
                {(p) => <input {...p} name="uid" pattern="[A-Za-z0-9_.:~-]+" defaultValue={x.uid ?? ''} />}
              </Field>
            </Form>
          )}
          {ctx.canChange && !editing && (
            <div className="row">
              <button type="button" className="btn" onClick={() => setEditing(true)}>
                Edit consumer
              </button>
              <ActionButton onAction={async () => setPortal(await ctx.api.post(`/v1/consumers/${seg(x.id)}/portal-sessions`, {}))}>Open a portal session</ActionButton>
              <ActionButton
                className="btn danger"
                confirm={`Delete ${x.name} with its endpoints and messages?`}
                onAction={async () => {
                  await ctx.api.del(`/v1/consumers/${seg(x.id)}`);
                  navigate('/consumers');
                }}
              >
                Delete consumer
              </ActionButton>
            </div>
          )}
          {portal && (
            <div className="card" role="status">
              <p>
                Portal link for {x.name} (valid until {fmtDate(portal.expiresAt)}). Give it to this customer, or embed it with <code>embed.js</code>:
              </p>
              <code className="secret-value break">{portal.url}</code>
              <div className="row">
                <a className="btn" href={portal.url} target="_blank" rel="noopener noreferrer">
                  Open portal
                </a>
              </div>
            </div>
          )}
          <div className="row seg" role="group" aria-label="Show">
            <button type="button" className="btn" aria-pressed={tab === 'endpoints'} onClick={() => setTab('endpoints')}>
              Endpoints
            </button>
            <button type="button" className="btn" aria-pressed={tab === 'messages'} onClick={() => setTab('messages')}>
              Messages
            </button>
          </div>
          <div className="seg-panel">{tab === 'endpoints' ? <EndpointList ctx={cc} /> : <MessageLog ctx={cc} />}</div>
        </>
      )}
    </Async>
  );
}

export function EndpointScreen({ ctx, consumer, endpoint }: { ctx: Ctx; consumer: string; endpoint: string }) {
  const cc = useMemo(() => consumerCtx(ctx, consumer), [ctx, consumer]);
  return <EndpointView ctx={cc} endpointId={endpoint} />;
}

export function MessageScreen({ ctx, consumer, message }: { ctx: Ctx; consumer: string; message: string }) {
  const cc = useMemo(() => consumerCtx(ctx, consumer), [ctx, consumer]);
  return (
    <>
      <p>
        <a href={href(`/consumers/${seg(consumer)}`)}>← Consumer</a>
      </p>
      <MessageView ctx={cc} messageId={message} />
    </>
  );
}

/** The message log is per consumer in the API: pick one, then filter and search its messages. */
export function Messages({ ctx }: { ctx: Ctx }) {
  const consumers = useAsync(() => ctx.api.get<Page<Consumer>>('/v1/consumers', { limit: 250 }), [ctx.api]);
  const [picked, setPicked] = useState<string>();
  const cc = useMemo(() => (picked ? consumerCtx(ctx, picked) : null), [ctx, picked]);
  return (
    <Async state={consumers} what="Loading consumers">
      {(p) => {
        if (p.data.length === 0) return <Empty>No consumers yet, so no messages.</Empty>;
        const current = picked ?? p.data[0]!.id;
        const c = cc ?? consumerCtx(ctx, current);
        return (
          <>
            <div className="toolbar">
              <Field label="Consumer">
                {(fp) => (
                  <select {...fp} value={current} onChange={(e) => setPicked(e.target.value)}>
                    {p.data.map((x) => (
                      <option key={x.id} value={x.id}>
                        {x.name} ({x.uid ?? x.id})
                      </option>
                    ))}
                  </select>
                )}
              </Field>
            </div>
            <MessageLog key={current} ctx={c} />
          </>
        );
      }}
    </Async>
  );
}
