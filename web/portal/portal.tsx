import { useEffect, useMemo, useState } from 'react';
import { createApi, seg, type Branding, type Consumer } from '../shared/api.ts';
import { EndpointList, EndpointView, EventTypeList, MessageLog, MessageView, type ConsumerCtx } from '../shared/consumer-views.tsx';
import { href, match, usePath } from '../shared/router.ts';
import { applyTheme } from '../shared/theme.ts';
import { ErrorBox, Loading } from '../shared/ui.tsx';

export function Portal({ tenant, token, claims }: { tenant: string; token: string | null; claims: { c: string; exp: number } | null }) {
  const [expired, setExpired] = useState(false);
  const api = useMemo(() => (token ? createApi({ kind: 'bearer', token }, () => setExpired(true)) : null), [token]);
  const [brand, setBrand] = useState<Branding | null>();
  const [consumer, setConsumer] = useState<Consumer>();
  const [error, setError] = useState<unknown>();
  const { path } = usePath();

  useEffect(() => {
    if (!api || !claims) return;
    api.get<Branding | { branding: Branding }>('/v1/portal/theme').then(
      (t) => {
        const b = 'branding' in t && t.branding ? t.branding : (t as Branding);
        applyTheme(b);
        setBrand(b);
        if (b.name) document.title = `Webhooks · ${b.name}`;
      },
      () => setBrand(null),
    );
    api.get<Consumer>(`/v1/consumers/${seg(claims.c)}`).then(setConsumer, setError);
  }, [api, claims]);

  const ctx = useMemo<ConsumerCtx | null>(
    () =>
      api && claims
        ? {
            api,
            consumer: claims.c,
            canChange: true,
            canPublish: false,
            paths: { endpoints: '/', endpoint: (id) => `/endpoints/${seg(id)}`, message: (id) => `/messages/${seg(id)}` },
          }
        : null,
    [api, claims],
  );

  if (!tenant || !token || !ctx)
    return (
      <main className="center" id="main">
        <div className="card">
          <h1>This portal link is not valid</h1>
          <p>Open the portal again from the website that sent you here; links expire after a while.</p>
        </div>
      </main>
    );
  if (expired || (claims && claims.exp * 1000 < Date.now()))
    return (
      <main className="center" id="main">
        <div className="card">
          <h1>Your portal session has expired</h1>
          <p>Open the portal again from the website that sent you here.</p>
        </div>
      </main>
    );

  let m: Record<string, string> | null;
  let tab: 'endpoints' | 'messages' | 'event-types' = 'endpoints';
  let body: React.ReactNode;
  if ((m = match('/endpoints/:e', path))) body = <EndpointView ctx={ctx} endpointId={m.e!} />;
  else if ((m = match('/messages/:m', path))) {
    tab = 'messages';
    body = (
      <>
        <p>
          <a href={href('/messages')}>← Messages</a>
        </p>
        <MessageView ctx={ctx} messageId={m.m!} />
      </>
    );
  } else if (path === '/messages') {
    tab = 'messages';
    body = <MessageLog ctx={ctx} />;
  } else if (path === '/event-types') {
    tab = 'event-types';
    body = (
      <>
        <h2>Event types</h2>
        <p className="muted">The events you can subscribe an endpoint to.</p>
        <EventTypeList api={ctx.api} />
      </>
    );
  } else body = <EndpointList ctx={ctx} />;

  return (
    <>
      <header className="portal-head">
        <div className="brand">
          {brand?.logoUrl ? <img src={brand.logoUrl} alt={brand.name ? `${brand.name} logo` : 'Logo'} data-testid="portal-logo" /> : null}
          <span>{brand?.name ?? ''} Webhooks</span>
        </div>
        <span className="muted">{consumer ? consumer.name : ''}</span>
      </header>
      <main id="main" style={{ maxWidth: 1000 }}>
        <h1 className="sr-only">Webhooks portal</h1>
        <nav aria-label="Portal">
          <ul className="tabs">
            <li>
              <a href={href('/')} aria-current={tab === 'endpoints' ? 'page' : undefined}>
                Endpoints
              </a>
            </li>
            <li>
              <a href={href('/messages')} aria-current={tab === 'messages' ? 'page' : undefined}>
                Messages
              </a>
            </li>
            <li>
              <a href={href('/event-types')} aria-current={tab === 'event-types' ? 'page' : undefined}>
                Event types
              </a>
            </li>
          </ul>
        </nav>
        {error ? <ErrorBox error={error} /> : brand === undefined ? <Loading what="Opening the portal" /> : body}
      </main>
    </>
  );
}
