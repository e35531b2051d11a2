import { Environment } from '@marcbachmann/cel-js';
import { AppError } from '../errors.ts';

/**
 * Payload filters: a CEL expression (https://cel.dev) per endpoint, over `payload` (the message's JSON),
 * `eventType` and `channels`. CEL is not Turing-complete and has no I/O; the bounds below also keep the
 * cost of one evaluation linear in the size of the payload:
 * - the text is at most MAX_FILTER_LENGTH characters, its tree at most MAX_AST_NODES nodes and MAX_DEPTH deep;
 * - a comprehension (`all`, `exists`, `exists_one`, `map`, `filter`) may not contain another one, and its
 *   body may use only its own variable (not `payload`): each element is visited once, with work bounded by
 *   the body, never a payload-sized list per element (`items.exists(i, i in payload.items)` would be quadratic);
 * - `matches` (a JavaScript regular expression here, not RE2: backtracking) and `cel.bind` are refused.
 * A filter that fails while evaluating (a missing key, a type mismatch) does not match: test with `has()`.
 */
export const MAX_FILTER_LENGTH = 1024;
const MAX_AST_NODES = 200;
const MAX_DEPTH = 24;
const COMPREHENSIONS = new Set(['all', 'exists', 'exists_one', 'map', 'filter']);
const REFUSED_CALLS: Record<string, string> = {
  matches:
    '`matches` is not available in filters (regular expressions can backtrack for a long time): use contains, startsWith or endsWith',
  bind: '`cel.bind` is not available in filters',
};

export interface FilterContext {
  payload: unknown;
  eventType: string;
  channels: readonly string[];
}

export interface FilterProblem {
  message: string;
  /** 0-based offset into the expression, and the 1-based line and column of that offset. */
  offset: number;
  line: number;
  column: number;
}

export type CompiledFilter = (ctx: FilterContext) => boolean;

const env = new Environment({ limits: { maxAstNodes: MAX_AST_NODES, maxDepth: MAX_DEPTH, maxListElements: 64, maxMapEntries: 64 } })
  .registerVariable('payload', 'dyn')
  .registerVariable('eventType', 'string')
  .registerVariable('channels', 'list<string>');

interface AstNode {
  op: string;
  args: unknown;
  start: number;
}

const isNode = (v: unknown): v is AstNode => typeof v === 'object' && v !== null && typeof (v as AstNode).op === 'string';

function position(expr: string, offset: number, message: string): FilterProblem {
  const before = expr.slice(0, Math.max(0, Math.min(offset, expr.length)));
  const lines = before.split('\n');
  return { message, offset, line: lines.length, column: lines[lines.length - 1]!.length + 1 };
}

/** The children of a node: cel-js keeps them in `args`, as a node, a list of nodes, or [name, receiver, [args]]. */
function children(n: AstNode): AstNode[] {
  const out: AstNode[] = [];
  const walk = (v: unknown): void => {
    if (isNode(v)) out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
  };
  walk(n.args);
  return out;
}

const callName = (n: AstNode): string | null =>
  (n.op === 'rcall' || n.op === 'call') && Array.isArray(n.args) && typeof n.args[0] === 'string' ? n.args[0] : null;

/** The rules CEL's own limits do not cover (see above); the first one broken, or null. */
function checkTree(root: AstNode, expr: string): FilterProblem | null {
  const visit = (n: AstNode, inComprehension: boolean): FilterProblem | null => {
    const name = callName(n);
    if (name && REFUSED_CALLS[name]) return position(expr, n.start, REFUSED_CALLS[name]);
    if (inComprehension && n.op === 'id' && n.args === 'payload')
      return position(
        expr,
        n.start,
        'inside all/exists/map/filter, use the element variable only (not payload): the cost must stay linear',
      );
    if (n.op === 'rcall' && name && COMPREHENSIONS.has(name)) {
      if (inComprehension) return position(expr, n.start, 'a comprehension (all, exists, map, filter) may not contain another one');
      const [, receiver, args] = n.args as [string, unknown, unknown[]];
      if (isNode(receiver)) {
        const p = visit(receiver, false);
        if (p) return p;
      }
      // args[0] is the element variable; the rest (predicate, transform) run once per element.
      for (const a of (args ?? []).slice(1)) {
        const p = isNode(a) ? visit(a, true) : null;
        if (p) return p;
      }
      return null;
    }
    for (const c of children(n)) {
      const p = visit(c, inComprehension);
      if (p) return p;
    }
    return null;
  };
  return visit(root, false);
}

type Checked = { ok: true; filter: CompiledFilter } | { ok: false; problem: FilterProblem };

/** Parses, type-checks and bounds an expression; the compiled filter, or the first problem and where it is. */
export function compileFilter(expr: string): Checked {
  if (expr.length > MAX_FILTER_LENGTH) {
    return { ok: false, problem: position(expr, MAX_FILTER_LENGTH, `longer than ${MAX_FILTER_LENGTH} characters`) };
  }
  if (expr.trim() === '') return { ok: false, problem: position(expr, 0, 'empty: send null to remove the filter') };
  let program: ReturnType<typeof env.parse>;
  try {
    program = env.parse(expr);
  } catch (err) {
    return { ok: false, problem: problemOf(expr, err) };
  }
  const checked = env.check(expr);
  if (!checked.valid) return { ok: false, problem: problemOf(expr, checked.error) };
  if (checked.type !== 'bool' && checked.type !== 'dyn') {
    return { ok: false, problem: position(expr, 0, `must be a condition (bool), not ${checked.type}`) };
  }
  const tree = checkTree(program.ast as unknown as AstNode, expr);
  if (tree) return { ok: false, problem: tree };
  return {
    ok: true,
    filter: (ctx) => {
      try {
        return program(ctx as unknown as Record<string, unknown>) === true;
      } catch {
        return false; // an evaluation error (no such key, no such overload) is "does not match"
      }
    },
  };
}

function problemOf(expr: string, err: unknown): FilterProblem {
  const e = err as { summary?: string; message?: string; range?: { start?: number } } | undefined;
  return position(expr, e?.range?.start ?? 0, e?.summary ?? e?.message ?? 'not a valid expression');
}

/**
 * Compiled filters by their text, shared by every endpoint with the same expression; bounded (the oldest
 * goes first). A filter was checked when it was saved, so one that no longer compiles (a newer rule) matches nothing.
 */
export function createFilterCache(max = 2000): { get(expr: string): CompiledFilter } {
  const cache = new Map<string, CompiledFilter>();
  const never: CompiledFilter = () => false;
  return {
    get(expr) {
      let f = cache.get(expr);
      if (f) return f;
      const c = compileFilter(expr);
      f = c.ok ? c.filter : never;
      if (cache.size >= max) cache.delete(cache.keys().next().value!);
      cache.set(expr, f);
      return f;
    },
  };
}

/** The 400 answered for a filter that does not compile: the field, the reason and where (line, column, offset). */
export function filterProblem(p: FilterProblem): AppError {
  const { message, line, column, offset } = p;
  return new AppError('VALIDATION', `The filter is not valid at line ${line}, column ${column}: ${message}`, {
    errors: [{ field: 'body.filter', message: `${message} (line ${line}, column ${column}, offset ${offset})` }],
    extra: { position: { line, column, offset } },
  });
}
