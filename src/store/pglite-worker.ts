/**
 * The embedded database's own thread, started by store/pglite-thread.ts. PGlite (Postgres compiled to WASM) runs
 * here, so its statements no longer take turns with the API's requests and the deliveries on one event loop: on
 * two cores the gateway's JavaScript and its database run side by side.
 *
 * A transaction opens with its first statement (the message carries how to begin it) and stays open, holding the
 * one connection, until a statement marked `last` or an `end` message. Everything else waits its turn, as PGlite
 * serialises transactions itself.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { type PgliteTxStatements, pgliteStatements } from './pglite-statements.ts';

/** How a transaction begins: the role switch (with its parameters), and whether sorts are off (the claim). */
export interface Begin {
  preamble: string | null;
  params: unknown[];
  noSort: boolean;
}

type Statement =
  | { op: 'query'; id: number; tx: number; begin?: Begin; text: string; params?: unknown[]; name?: string; last: boolean }
  | { op: 'exec'; id: number; tx: number; begin?: Begin; text: string };

export type Request =
  | Statement
  | { op: 'end'; id: number; tx: number; commit: boolean }
  | { op: 'maintenance'; id: number; sql: string }
  | { op: 'listen'; id: number; channel: string }
  | { op: 'close'; id: number };

/** A request as the main thread writes it (the id is added on sending). */
export type Call = Request extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

/** A database error's fields (code, detail, constraint…): the main thread rebuilds the error from them. */
export type WireError = { message: string } & Record<string, string | number | undefined>;

export type Reply =
  | { kind: 'ready' }
  | { kind: 'done'; id: number; value?: unknown }
  | { kind: 'failed'; id: number; error: WireError }
  | { kind: 'notify'; channel: string; payload: string };

export interface WorkerOptions {
  /** A folder, or `memory://` */
  dataDir: string;
  /** A data-folder dump to start from (tests: a migrated template). */
  loadDataDir?: Uint8Array;
}

type TxOp = Statement | Extract<Request, { op: 'end' }>;

const port = parentPort;
if (!port) throw new Error('store/pglite-worker.ts runs as a worker thread (store/pglite-thread.ts)');
const { dataDir, loadDataDir } = workerData as WorkerOptions;
const post = (reply: Reply): void => port.postMessage(reply);

function wire(err: unknown): WireError {
  if (!(err instanceof Error)) return { message: String(err) };
  const out: WireError = { message: err.message };
  for (const [k, v] of Object.entries(err)) if (typeof v === 'string' || typeof v === 'number') out[k] = v;
  return out;
}

const ROLLBACK = Symbol('rollback');
const db = await PGlite.create(dataDir, loadDataDir ? { loadDataDir: new Blob([loadDataDir]) } : {});
const statements = pgliteStatements();
/** Open transactions: the next operation of each is handed to it here. */
const open = new Map<number, (op: TxOp) => void>();

function run(tx: PgliteTxStatements, op: Statement): Promise<unknown> {
  return op.op === 'exec' ? tx.exec(op.text) : tx.query(op.text, op.params, op.name);
}

function begin(first: Statement & { begin: Begin }): void {
  const queue: TxOp[] = [first];
  let wake: (() => void) | null = null;
  open.set(first.tx, (op) => {
    queue.push(op);
    wake?.();
  });
  const next = async (): Promise<TxOp> => {
    while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
    wake = null;
    return queue.shift() as TxOp;
  };
  let current = first.id;
  let result: unknown;
  db.transaction(async (t) => {
    const tx = statements.open(t, first.begin.preamble, first.begin.params, first.begin.noSort);
    for (;;) {
      const op = await next();
      current = op.id;
      if (op.op === 'end') {
        if (!op.commit) throw ROLLBACK;
        return;
      }
      if (op.op === 'query' && op.last) {
        result = await run(tx, op); // a failure rolls the transaction back, and is the answer
        return;
      }
      try {
        post({ kind: 'done', id: op.id, value: await run(tx, op) });
      } catch (err) {
        post({ kind: 'failed', id: op.id, error: wire(err) }); // the transaction stays open (aborted) until its end
      }
    }
  })
    .then(
      () => post({ kind: 'done', id: current, value: result }),
      (err: unknown) => post(err === ROLLBACK ? { kind: 'done', id: current } : { kind: 'failed', id: current, error: wire(err) }),
    )
    .finally(() => open.delete(first.tx));
}

async function handle(msg: Request): Promise<void> {
  switch (msg.op) {
    case 'query':
    case 'exec': {
      const deliver = open.get(msg.tx);
      if (deliver) deliver(msg);
      else if (msg.begin) begin(msg as Statement & { begin: Begin });
      else post({ kind: 'failed', id: msg.id, error: { message: 'a statement after its transaction ended' } });
      return;
    }
    case 'end': {
      const deliver = open.get(msg.tx);
      if (deliver) deliver(msg);
      else post({ kind: 'done', id: msg.id }); // already over (its last statement failed, or it never began)
      return;
    }
    case 'maintenance':
      await db.exec(msg.sql);
      break;
    case 'listen':
      await db.listen(msg.channel, (payload) => post({ kind: 'notify', channel: msg.channel, payload }));
      break;
    case 'close':
      await db.close();
      post({ kind: 'done', id: msg.id });
      port?.close();
      return;
  }
  post({ kind: 'done', id: msg.id });
}

port.on('message', (msg: Request) => {
  handle(msg).catch((err: unknown) => post({ kind: 'failed', id: msg.id, error: wire(err) }));
});
post({ kind: 'ready' });
