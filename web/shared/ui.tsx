import { useCallback, useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { ApiError } from './api.ts';
import { cap } from './format.ts';

export interface AsyncState<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when `deps` change (and on reload); `pollMs` re-runs it while the page is visible. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[], pollMs?: number): AsyncState<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [n, setN] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    loadRef.current().then(
      (data) => live && setState({ data, loading: false }),
      (error: Error) => live && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, n]);
  useEffect(() => {
    if (!pollMs) return;
    const t = setInterval(() => {
      if (document.visibilityState === 'visible') setN((x) => x + 1);
    }, pollMs);
    return () => clearInterval(t);
  }, [pollMs]);
  const reload = useCallback(() => setN((x) => x + 1), []);
  return { data: state.data, error: state.error, loading: state.loading, reload };
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p className="state loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {what}…
    </p>
  );
}

export function ErrorBox({ error, retry }: { error: unknown; retry?: () => void }) {
  const e = error as Error;
  const errors = e instanceof ApiError ? e.errors : undefined;
  return (
    <div className="state error" role="alert">
      <strong>{e instanceof ApiError && e.status === 403 ? 'Not allowed' : 'Something went wrong'}</strong>
      <p>{e?.message ?? String(error)}</p>
      {errors && errors.length > 0 && (
        <ul>
          {errors.map((x) => (
            <li key={x.field}>
              <code>{x.field}</code>: {x.message}
            </li>
          ))}
        </ul>
      )}
      {retry && (
        <button type="button" className="btn" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="state empty">{children}</div>;
}

/** Loading / error / content, in that order; content gets the data. */
export function Async<T>({ state, children, what }: { state: AsyncState<T>; children: (data: T) => ReactNode; what?: string }) {
  if (state.error && state.data === undefined) return <ErrorBox error={state.error} retry={state.reload} />;
  if (state.data === undefined) return <Loading what={what} />;
  return (
    <>
      {state.error && <ErrorBox error={state.error} retry={state.reload} />}
      {children(state.data)}
    </>
  );
}

export function Badge({ tone, children }: { tone: 'ok' | 'bad' | 'warn' | 'neutral'; children: ReactNode }) {
  return <span className={`badge ${tone}`}>{children}</span>;
}

export function StateBadge({ state }: { state: string }) {
  const tone = state === 'succeeded' ? 'ok' : state === 'failed' ? 'bad' : state === 'pending' || state === 'sending' ? 'warn' : 'neutral';
  return <Badge tone={tone}>{state}</Badge>;
}

export function Field({
  label,
  hint,
  children,
}: {
  label: string;
  hint?: string;
  children: (props: { id: string; 'aria-describedby'?: string }) => ReactNode;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, ...(hint ? { 'aria-describedby': hintId } : {}) })}
      {hint && (
        <small id={hintId} className="hint">
          {hint}
        </small>
      )}
    </div>
  );
}

/** A button that runs an async action, shows progress and reports its error next to itself. */
export function ActionButton({
  onAction,
  children,
  className = 'btn',
  confirm,
  ...rest
}: {
  onAction: () => Promise<unknown>;
  children: ReactNode;
  className?: string;
  confirm?: string;
  'aria-label'?: string;
  'data-testid'?: string;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  return (
    <span className="action">
      <button
        type="button"
        className={className}
        disabled={busy}
        aria-busy={busy}
        {...rest}
        onClick={async () => {
          if (confirm && !window.confirm(confirm)) return;
          setBusy(true);
          setError(undefined);
          try {
            await onAction();
          } catch (e) {
            setError(e);
          } finally {
            setBusy(false);
          }
        }}
      >
        {children}
      </button>
      {error !== undefined && (
        <span className="inline-error" role="alert">
          {(error as Error).message}
        </span>
      )}
    </span>
  );
}

/** A form whose submit runs an async action; errors (with field errors) are shown above the buttons. */
export function Form({
  onSubmit,
  submitLabel,
  children,
  onCancel,
  label,
  readOnly = false,
}: {
  onSubmit: (data: FormData) => Promise<unknown>;
  submitLabel: string;
  children: ReactNode;
  onCancel?: () => void;
  label: string;
  /** No submit button (a role that may only read). */
  readOnly?: boolean;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  return (
    <form
      className="form card"
      aria-label={label}
      onSubmit={async (e) => {
        e.preventDefault();
        const data = new FormData(e.currentTarget);
        setBusy(true);
        setError(undefined);
        try {
          await onSubmit(data);
        } catch (err) {
          setError(err);
        } finally {
          setBusy(false);
        }
      }}
    >
      {children}
      {error !== undefined && <ErrorBox error={error} />}
      {!readOnly && (
      <div className="row">
        <button type="submit" className="btn primary" disabled={busy} aria-busy={busy}>
          {busy ? 'Working…' : submitLabel}
        </button>
        {onCancel && (
          <button type="button" className="btn" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
      )}
    </form>
  );
}

/** Untrusted text (a receiver's response): escaped by React, capped, in a scrollable block. */
export function UntrustedText({ text, max = 4096, label }: { text: string | null | undefined; max?: number; label: string }) {
  const c = cap(text, max);
  if (!c.text) return <p className="muted">(empty)</p>;
  return (
    <>
      <pre className="code" tabIndex={0} aria-label={label}>
        {c.text}
      </pre>
      {c.cut && <p className="muted">Cut to the first {max.toLocaleString()} characters.</p>}
    </>
  );
}

export function Secret({ load, rotate, canChange }: { load: () => Promise<string>; rotate?: () => Promise<string>; canChange: boolean }) {
  const [secret, setSecret] = useState<string>();
  return (
    <div className="secret">
      <code className="secret-value" aria-live="polite">
        {secret ?? 'whsec_••••••••••••••••'}
      </code>
      <div className="row">
        {secret === undefined ? (
          <ActionButton onAction={async () => setSecret(await load())}>Reveal secret</ActionButton>
        ) : (
          <>
            <button type="button" className="btn" onClick={() => setSecret(undefined)}>
              Hide
            </button>
            <button type="button" className="btn" onClick={() => void navigator.clipboard?.writeText(secret)}>
              Copy
            </button>
          </>
        )}
        {canChange && rotate && (
          <ActionButton confirm="Rotate the signing secret? The previous one keeps signing for 24 hours." onAction={async () => setSecret(await rotate())}>
            Rotate secret
          </ActionButton>
        )}
      </div>
    </div>
  );
}

export function Pager({ hasMore, onMore, loading }: { hasMore: boolean; onMore: () => void; loading?: boolean }) {
  if (!hasMore) return null;
  return (
    <div className="row">
      <button type="button" className="btn" onClick={onMore} disabled={loading}>
        Load more
      </button>
    </div>
  );
}

export const splitList = (s: FormDataEntryValue | null): string[] | null => {
  const xs = String(s ?? '')
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);
  return xs.length ? xs : null;
};
