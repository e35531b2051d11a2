/**
 * One stack of closers for everything a process opens (graphile-worker's withReleasers): each resource
 * pushes its closer as it is opened, and the stack unwinds last-opened-first, on a failed start as on stop.
 * So a resource is always closed before what it depends on (the API before Redis, the worker before the
 * database), and a start that fails halfway closes exactly what it had opened.
 */
export interface Closers {
  /** `failed`: the start failed (nothing to drain; close fast). */
  push(name: string, close: (how: { failed: boolean }) => unknown): void;
  /**
   * Runs every closer once, last-opened-first, each after the previous one finished; a closer that throws
   * does not stop the others. Rejects with the first error after all have run. Idempotent.
   */
  unwind(how?: { failed: boolean }): Promise<void>;
}

export function createClosers(onError: (name: string, err: unknown) => void = () => {}): Closers {
  const stack: Array<{ name: string; close: (how: { failed: boolean }) => unknown }> = [];
  let unwinding: Promise<void> | null = null;
  return {
    push(name, close) {
      if (unwinding) throw new Error(`cannot open ${name}: the process is closing`);
      stack.push({ name, close });
    },
    unwind(how = { failed: false }) {
      unwinding ??= (async () => {
        let first: { err: unknown } | null = null;
        for (let c = stack.pop(); c; c = stack.pop()) {
          try {
            await c.close(how);
          } catch (err) {
            onError(c.name, err);
            first ??= { err };
          }
        }
        if (first) throw first.err;
      })();
      return unwinding;
    },
  };
}

/** Runs `fn` with a stack of its own, unwound when `fn` settles: for a command that opens, works, closes. */
export async function withClosers<T>(fn: (closers: Closers) => Promise<T>): Promise<T> {
  const closers = createClosers();
  try {
    const result = await fn(closers);
    await closers.unwind();
    return result;
  } catch (err) {
    await closers.unwind({ failed: true }).catch(() => {});
    throw err;
  }
}
