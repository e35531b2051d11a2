import { Worker } from 'node:worker_threads';
import { AppError } from '../errors.ts';
import type { Db, QueryResult, Queryable, TxOptions } from './db.ts';
import { SYSTEM_PREAMBLE, TENANT_PREAMBLE } from './db.ts';
import type { Begin, Call, Reply, WireError, WorkerOptions } from './pglite-worker.ts';
import { STORAGE_FULL_DETAIL, isStorageFull } from './unavailable.ts';

/**
 * The embedded database on a thread of its own (store/pglite-worker.ts): the same `Db` as openPglite, with every
 * statement posted to the thread and its rows posted back. A transaction begins with its first statement and
 * commits with a statement marked `last` (or the only one of a `oneStatement` transaction) in the same message,
 * so the hot transactions (claim, completion, lease hand-back) cross the thread once, as they cross the network
 * once on a Postgres server.
 */
export async function openPgliteThread(opts: WorkerOptions): Promise<Db> {
  // From dist/ the thread is plain JavaScript; from the sources (tests, tsx) it is TypeScript, loaded through tsx
  // (resolved from the working directory: the repository's, wherever the sources run).
  const worker = import.meta.url.endsWith('.ts')
    ? new Worker(
        `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./pglite-worker.ts', import.meta.url).href)}); })`,
        { eval: true, workerData: opts },
      )
    : new Worker(new URL('./pglite-worker.js', import.meta.url), { workerData: opts });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Map<string, Set<(payload: string) => void>>();
  let broken: Error | null = null;
  let nextId = 1;
  let nextTx = 1;

  const fail = (err: Error): void => {
    broken ??= err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  await new Promise<void>((resolve, reject) => {
    worker.once('message', (m: Reply) => (m.kind === 'ready' ? resolve() : reject(new Error('the database thread did not start'))));
    worker.once('error', reject);
  });
  // The thread keeps the process alive only while a call waits on it, as an embedded database in the process would:
  // a command that forgets to close it still exits.
  worker.unref();
  worker.on('message', (m: Reply) => {
    if (m.kind === 'notify') {
      for (const fn of listeners.get(m.channel) ?? []) fn(m.payload);
      return;
    }
    if (m.kind === 'ready') return;
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (pending.size === 0) worker.unref();
    if (m.kind === 'done') p?.resolve(m.value);
    else p?.reject(rebuild(m.error));
  });
  // The thread died (out of memory, a WASM abort): every call fails from now on, and the health check with them.
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the database thread exited (code ${code})`)));

  const call = <T>(msg: Call): Promise<T> => {
    if (broken) return Promise.reject(broken);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      if (pending.size === 0) worker.ref();
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ ...msg, id });
    });
  };

  async function inTx<T>(b: Begin, fn: (q: Queryable) => Promise<T>, o: TxOptions = {}): Promise<T> {
    const tx = nextTx++;
    let begun = false;
    let done = false;
    const statement = <R>(msg: Extract<Call, { op: 'query' | 'exec' }>): Promise<R> => {
      if (done) return Promise.reject(new Error('a statement after its transaction committed'));
      const first = !begun;
      begun = true;
      return call<R>(first ? { ...msg, begin: b } : msg);
    };
    try {
      const result = await fn({
        query: <R>(text: string, params?: readonly unknown[], name?: string, how?: { last?: boolean }) => {
          const last = o.oneStatement === true || how?.last === true;
          const answer = statement<QueryResult<R>>({ op: 'query', tx, text, params: params as unknown[] | undefined, name, last });
          if (last) done = true;
          return answer;
        },
        exec: (text) => statement<void>({ op: 'exec', tx, text }),
      });
      if (begun && !done) {
        done = true;
        await call({ op: 'end', tx, commit: true });
      }
      return result;
    } catch (err) {
      if (begun && !done) {
        done = true;
        await call({ op: 'end', tx, commit: false }).catch(() => {});
      }
      // A full data folder is said as such (503 + Retry-After), not as an internal error.
      throw isStorageFull(err) ? new AppError('UNAVAILABLE', STORAGE_FULL_DETAIL, { cause: err }) : err;
    }
  }

  const plain: Begin = { preamble: null, params: [], noSort: false };
  return {
    kind: 'pglite',
    tenant: (tenantId, fn, o) => inTx({ preamble: TENANT_PREAMBLE, params: [tenantId], noSort: false }, fn, o),
    system: (fn, o) => inTx({ preamble: SYSTEM_PREAMBLE, params: [], noSort: o?.noSort === true }, fn, o),
    owner: (fn) => inTx(plain, fn),
    maintenance: (sql) => call({ op: 'maintenance', sql }),
    async listen(channel, onNotify) {
      let set = listeners.get(channel);
      if (!set) {
        listeners.set(channel, (set = new Set()));
        await call({ op: 'listen', channel });
      }
      set.add(onNotify);
      return async () => {
        set.delete(onNotify);
      };
    },
    async close() {
      if (!broken) await call({ op: 'close' });
      await worker.terminate();
      fail(new Error('the database thread exited (closed)'));
    },
  };
}

/** The error as the thread saw it: its message, and its fields (`code` above all) for the callers that read them. */
function rebuild(e: WireError): Error {
  const { message, ...fields } = e;
  return Object.assign(new Error(message), fields);
}
