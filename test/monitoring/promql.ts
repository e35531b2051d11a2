/**
 * Just enough PromQL reading to check that dashboards and rules only use metrics and labels the
 * gateway exports: which metric names an expression selects, and the label matchers beside them.
 * Syntax is promtool's job; this only has to find names in expressions promtool accepts.
 */

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'atan2',
  'inf',
  'nan',
]);

export interface Matcher {
  label: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
}

export interface Selector {
  metric: string;
  matchers: Matcher[];
}

/** Grafana's variables, replaced by values that keep the expression valid PromQL. */
export function substituteGrafanaVariables(expr: string): string {
  return expr
    .replace(/\$__rate_interval|\$\{__rate_interval\}/g, '5m')
    .replace(/\$__interval|\$\{__interval\}/g, '1m')
    .replace(/\$__range|\$\{__range\}/g, '1h')
    .replace(/\$\{[a-zA-Z_][a-zA-Z0-9_]*(?::[a-z]+)?\}|\$[a-zA-Z_][a-zA-Z0-9_]*/g, '.*');
}

const MATCHER = /([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g;

/** Every series selector in the expression (`name{…}` or `name`); a bare `{…}` without a name is refused. */
export function selectors(expr: string): Selector[] {
  const out: Selector[] = [];
  // Mask string literals first (they may contain braces or names), keeping offsets.
  const masked = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, (s) => '"' + ' '.repeat(s.length - 2) + '"');
  // Matcher lists, with the name in front of them (if any).
  const braces: Array<{ start: number; end: number }> = [];
  for (const m of masked.matchAll(/\{[^}]*\}/g)) braces.push({ start: m.index, end: m.index + m[0].length });
  const noBraces = blank(masked, braces);
  const noRanges = noBraces.replace(/\[[^\]]*\]/g, (s) => ' '.repeat(s.length));
  // `sum by (tenant) (…)`: blank the whole clause, so `sum` is seen followed by its parenthesis.
  const noGrouping = noRanges.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, (s) => ' '.repeat(s.length));
  const noVars = noGrouping.replace(/\$\{[^}]*\}|\$[a-zA-Z_][a-zA-Z0-9_]*/g, (s) => ' '.repeat(s.length));

  const taken = new Set<number>();
  for (const t of noVars.matchAll(/(\d+(?:\.\d+)?(?:e[+-]?\d+)?[a-zA-Z]*)|([a-zA-Z_:][a-zA-Z0-9_:]*)/g)) {
    const name = t[2];
    if (!name || KEYWORDS.has(name.toLowerCase())) continue;
    const after = noVars.slice(t.index + name.length);
    if (/^\s*\(/.test(after)) continue; // a function or an aggregation
    const end = t.index + name.length;
    const brace = braces.find((b) => b.start >= end && /^\s*$/.test(masked.slice(end, b.start)));
    const matchers = brace && !taken.has(brace.start) ? parseMatchers(expr.slice(brace.start + 1, brace.end - 1)) : [];
    if (brace) taken.add(brace.start);
    out.push({ metric: name, matchers });
  }
  for (const b of braces) {
    if (taken.has(b.start)) continue;
    throw new Error(`selector without a metric name in ${expr}: ${expr.slice(b.start, b.end)}`);
  }
  return out;
}

function parseMatchers(body: string): Matcher[] {
  return [...body.matchAll(MATCHER)].map((m) => ({ label: m[1]!, op: m[2] as Matcher['op'], value: m[3]! }));
}

function blank(s: string, spans: Array<{ start: number; end: number }>): string {
  let out = s;
  for (const { start, end } of spans) out = out.slice(0, start) + ' '.repeat(end - start) + out.slice(end);
  return out;
}
