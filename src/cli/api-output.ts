// How the CLI's API commands print: a table per list, one field per line per resource, or the API's JSON.
import type { PagedList } from '../../sdk/src/index.ts';
import { HEADER_MASK } from '../domain/header-masks.ts';
import type { ConnOpts } from './api-target.ts';

export type Row = Record<string, unknown>;
export type Column = [header: string, value: (r: Row) => unknown];

export const cell = (v: unknown): string => {
  if (v === null || v === undefined) return '-';
  if (Array.isArray(v)) return v.length ? v.join(',') : '-';
  if (typeof v === 'object') return JSON.stringify(v);
  const s = String(v);
  return s.length > 60 ? `${s.slice(0, 59)}…` : s;
};

export function table(rows: Row[], columns: Column[]): string {
  const cells = rows.map((r) => columns.map(([, get]) => cell(get(r))));
  const widths = columns.map(([h], i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (vals: string[]): string =>
    vals
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(columns.map(([h]) => h)), ...cells.map(line)].join('\n');
}

export const field = (name: string) => (r: Row) => r[name];
export const COLUMNS: Record<string, Column[]> = {
  consumer: [
    ['ID', field('id')],
    ['UID', field('uid')],
    ['NAME', field('name')],
    ['CREATED', field('createdAt')],
  ],
  endpoint: [
    ['ID', field('id')],
    ['URL', field('url')],
    ['EVENT TYPES', field('eventTypes')],
    ['DISABLED', (r) => (r.disabled ? (r.disabledReason ?? 'yes') : 'no')],
    ['CREATED', field('createdAt')],
  ],
  message: [
    ['ID', field('id')],
    ['STATUS', field('status')],
    ['EVENT TYPE', field('eventType')],
    ['EVENT ID', field('eventId')],
    ['CREATED', field('createdAt')],
  ],
  delivery: [
    ['DELIVERY', field('id')],
    ['ENDPOINT', field('endpointId')],
    ['STATE', field('state')],
    ['ATTEMPTS', field('attempts')],
    ['LAST STATUS', field('lastStatus')],
    ['NEXT ATTEMPT', field('nextAttemptAt')],
  ],
  attempt: [
    ['ID', field('id')],
    ['ENDPOINT', field('endpointId')],
    ['ATTEMPT', field('attempt')],
    ['OUTCOME', field('outcome')],
    ['STATUS', field('statusCode')],
    ['MS', field('durationMs')],
    ['STARTED', field('startedAt')],
  ],
  eventType: [
    ['NAME', field('name')],
    ['DESCRIPTION', field('description')],
    ['ARCHIVED', field('archived')],
    ['CREATED', field('createdAt')],
  ],
};

export const print = (s: string): void => {
  process.stdout.write(`${s}\n`);
};

/**
 * An endpoint's custom headers in the human view: names only, each value masked whatever the key may read
 * (a terminal's scrollback and a shared screen are no place for credentials); `--json` prints the API's answer.
 */
export const maskedHeaders = (v: unknown): unknown =>
  v && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v).map((name) => `${name}: ${HEADER_MASK}`) : v;

/** One resource: JSON, or its fields one per line. */
export function show(opts: ConnOpts, item: object, extra?: () => void): void {
  if (opts.json) {
    print(JSON.stringify(item, null, 2));
    return;
  }
  const rows = Object.entries(item)
    .filter(([k]) => k !== 'deliveries')
    .map(([k, v]): [string, unknown] => [k, k === 'headers' ? maskedHeaders(v) : v]);
  const width = Math.max(...rows.map(([k]) => k.length));
  print(rows.map(([k, v]) => `${k.padEnd(width)}  ${cell(v)}`).join('\n'));
  extra?.();
}

export interface ListOpts extends ConnOpts {
  limit?: number;
  cursor?: string;
  all?: boolean;
}

/** A page (or every page with --all) as a table or a JSON array; where the next page starts, on stderr. */
export async function showList<T extends object>(opts: ListOpts, list: PagedList<T>, columns: Column[]): Promise<void> {
  let items: T[];
  let next: string | null = null;
  if (opts.all) items = await list.toArray(Number.MAX_SAFE_INTEGER);
  else {
    const page = await list.page();
    items = page.data;
    next = page.nextCursor;
  }
  print(opts.json ? JSON.stringify(items, null, 2) : table(items as Row[], columns));
  if (next) process.stderr.write(`(more: --cursor ${next}, or --all)\n`);
}
