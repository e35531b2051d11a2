import { useState } from 'react';
import { MESSAGE_STATUSES, seg, type Attempt, type Endpoint, type Message, type MessageDetail, type Page } from '../api.ts';
import { fmtDate, fmtMs, pretty } from '../format.ts';
import { href, navigate } from '../router.ts';
import { ActionButton, Async, Empty, Field, StateBadge, UntrustedText, useAsync } from '../ui.tsx';
import { type ConsumerCtx, cpath, useEventTypes } from './context.ts';

/** What each message status means, as the filter offers it (the API's definition: message-status.ts). */
const STATUS_LABELS: Record<(typeof MESSAGE_STATUSES)[number], string> = {
  pending: 'Pending (still being delivered)',
  succeeded: 'Succeeded (every endpoint)',
  failed: 'Failed (some endpoint)',
  none: 'No endpoint subscribed',
};

export function MessageLog({ ctx }: { ctx: ConsumerCtx }) {
  const { api, consumer } = ctx;
  const types = useEventTypes(api);
  const [filters, setFilters] = useState<{ eventType?: string; channel?: string; after?: string; before?: string; status?: string }>({});
  const [pages, setPages] = useState<string[]>([]);
  const [search, setSearch] = useState('');
  const [searchError, setSearchError] = useState<string>();
  const list = useAsync(async () => {
    const first = await api.get<Page<Message>>(`${cpath(consumer)}/messages`, { limit: 50, ...filters });
    return first;
  }, [api, consumer, JSON.stringify(filters)], 5000);
  const [more, setMore] = useState<Message[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>();
  const shown = [...(list.data?.data ?? []), ...more];
  const next = cursor === undefined ? list.data?.nextCursor : cursor;
  return (
    <section aria-labelledby="messages-h">
      <h2 id="messages-h">Messages</h2>
      <form
        className="toolbar"
        role="search"
        aria-label="Find a message"
        onSubmit={async (e) => {
          e.preventDefault();
          setSearchError(undefined);
          const q = search.trim();
          if (!q) return;
          try {
            const m = await api.get<MessageDetail>(`${cpath(consumer)}/messages/${seg(q)}`);
            navigate(ctx.paths.message(m.id));
          } catch (err) {
            setSearchError((err as { status?: number }).status === 404 ? `No message with id or event id “${q}”.` : (err as Error).message);
          }
        }}
      >
        <Field label="Message id or event id">{(p) => <input {...p} value={search} onChange={(e) => setSearch(e.target.value)} placeholder="msg_… or your event id" />}</Field>
        <button type="submit" className="btn">
          Find
        </button>
        {searchError && (
          <p className="inline-error" role="alert">
            {searchError}
          </p>
        )}
      </form>
      <form
        className="toolbar"
        aria-label="Filter messages"
        onSubmit={(e) => {
          e.preventDefault();
          const f = new FormData(e.currentTarget);
          const iso = (v: FormDataEntryValue | null) => (v ? new Date(String(v)).toISOString() : undefined);
          setMore([]);
          setCursor(undefined);
          setPages([]);
          setFilters({
            eventType: String(f.get('eventType') ?? '') || undefined,
            channel: String(f.get('channel') ?? '').trim() || undefined,
            after: iso(f.get('after')),
            before: iso(f.get('before')),
            status: String(f.get('status') ?? '') || undefined,
          });
        }}
      >
        <Field label="Event type">
          {(p) => (
            <select {...p} name="eventType" defaultValue="">
              <option value="">All</option>
              {types.data?.map((t) => (
                <option key={t.name} value={t.name}>
                  {t.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Status">
          {(p) => (
            <select {...p} name="status" defaultValue="">
              <option value="">All</option>
              {MESSAGE_STATUSES.map((st) => (
                <option key={st} value={st}>
                  {STATUS_LABELS[st]}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Channel">{(p) => <input {...p} name="channel" />}</Field>
        <Field label="After">{(p) => <input {...p} name="after" type="datetime-local" />}</Field>
        <Field label="Before">{(p) => <input {...p} name="before" type="datetime-local" />}</Field>
        <button type="submit" className="btn">
          Apply filters
        </button>
      </form>
      <Async state={list} what="Loading messages">
        {() =>
          shown.length === 0 ? (
            <Empty>No messages{Object.values(filters).some(Boolean) ? ' match these filters' : ' yet'}.</Empty>
          ) : (
            <>
              <div className="table-wrap">
                <table aria-label="Messages">
                  <thead>
                    <tr>
                      <th scope="col">Message</th>
                      <th scope="col">Event type</th>
                      <th scope="col">Status</th>
                      <th scope="col">Event id</th>
                      <th scope="col">Channels</th>
                      <th scope="col">Created</th>
                    </tr>
                  </thead>
                  <tbody>
                    {shown.map((m) => (
                      <tr key={m.id}>
                        <td>
                          <a href={href(ctx.paths.message(m.id))}>{m.id}</a>
                        </td>
                        <td>{m.eventType}</td>
                        <td>{m.status ? <StateBadge state={m.status} /> : '—'}</td>
                        <td className="break">{m.eventId}</td>
                        <td>{m.channels?.join(', ') || '—'}</td>
                        <td>{fmtDate(m.createdAt)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              {next && (
                <div className="row">
                  <ActionButton
                    onAction={async () => {
                      const p = await api.get<Page<Message>>(`${cpath(consumer)}/messages`, { limit: 50, ...filters, cursor: next });
                      setPages([...pages, next]);
                      setMore([...more, ...p.data]);
                      setCursor(p.nextCursor);
                    }}
                  >
                    Load more
                  </ActionButton>
                </div>
              )}
            </>
          )
        }
      </Async>
    </section>
  );
}

export function MessageView({ ctx, messageId }: { ctx: ConsumerCtx; messageId: string }) {
  const { api, consumer } = ctx;
  const path = `${cpath(consumer)}/messages/${seg(messageId)}`;
  const msg = useAsync(() => api.get<MessageDetail>(path), [api, path], 3000);
  const attempts = useAsync(() => api.get<Page<Attempt>>(`${path}/attempts`, { limit: 100 }), [api, path], 3000);
  const endpoints = useAsync(() => api.get<Page<Endpoint>>(`${cpath(consumer)}/endpoints`, { limit: 250 }), [api, consumer]);
  const urlOf = (id: string) => endpoints.data?.data.find((e) => e.id === id)?.url ?? id;
  return (
    <Async state={msg} what="Loading message">
      {(m) => {
        const envelope = pretty({ type: m.eventType, timestamp: m.createdAt, data: m.payload });
        return (
          <>
            <h2 className="break">Message {m.id}</h2>
            <dl className="props card">
              <dt>Status</dt>
              <dd>{m.status ? <StateBadge state={m.status} /> : '—'}</dd>
              <dt>Event type</dt>
              <dd>{m.eventType}</dd>
              <dt>Event id</dt>
              <dd className="break">{m.eventId}</dd>
              <dt>Channels</dt>
              <dd>{m.channels?.join(', ') || '—'}</dd>
              <dt>Created</dt>
              <dd>{fmtDate(m.createdAt)}</dd>
            </dl>
            <h3>Payload</h3>
            <UntrustedText text={pretty(m.payload)} max={65536} label="Payload" />
            <section aria-labelledby="deliveries-h">
              <h3 id="deliveries-h">Deliveries</h3>
              {m.deliveries.length === 0 ? (
                <Empty>No endpoint was subscribed to this message.</Empty>
              ) : (
                <ul className="list" aria-label="Deliveries">
                  {m.deliveries.map((d) => (
                    <li key={d.id} className="list-item delivery" data-state={d.state}>
                      <span className="break strong">{urlOf(d.endpointId)}</span>
                      <span className="meta">
                        <StateBadge state={d.state} /> {d.attempts} attempt{d.attempts === 1 ? '' : 's'}
                        {d.lastStatus ? ` · last status ${d.lastStatus}` : ''}
                        {d.nextAttemptAt ? ` · next ${fmtDate(d.nextAttemptAt)}` : ''}
                      </span>
                      {ctx.canChange && (
                        <ActionButton
                          onAction={async () => {
                            await api.post(`${path}/endpoints/${seg(d.endpointId)}/resend`);
                            msg.reload();
                            attempts.reload();
                          }}
                        >
                          Resend
                        </ActionButton>
                      )}
                    </li>
                  ))}
                </ul>
              )}
            </section>
            <section aria-labelledby="attempts-h">
              <h3 id="attempts-h">Attempts</h3>
              <Async state={attempts} what="Loading attempts">
                {(p) =>
                  p.data.length === 0 ? (
                    <Empty>No attempts yet.</Empty>
                  ) : (
                    <ol className="attempts">
                      {p.data.map((a) => (
                        <li key={a.id} className="card attempt" data-outcome={a.outcome}>
                          <div className="section-head">
                            <strong>
                              Attempt {a.attempt} · <span className="break">{urlOf(a.endpointId)}</span>
                            </strong>
                            <StateBadge state={a.outcome} />
                          </div>
                          <p className="meta">
                            {fmtDate(a.startedAt)} · {fmtMs(a.durationMs)} · status {a.statusCode ?? '—'}
                            {a.error ? ` · ${a.error}` : ''}
                          </p>
                          <details>
                            <summary>Request</summary>
                            <pre className="code" tabIndex={0} aria-label="Request">
                              {`POST ${urlOf(a.endpointId)}\ncontent-type: application/json\nwebhook-id: ${m.id}\n\n${envelope}`}
                            </pre>
                          </details>
                          <details open>
                            <summary>Response</summary>
                            <UntrustedText text={a.responseBody} label="Response body" />
                          </details>
                        </li>
                      ))}
                    </ol>
                  )
                }
              </Async>
            </section>
          </>
        );
      }}
    </Async>
  );
}
