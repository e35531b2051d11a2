import type { Api, EventType, Page } from '../api.ts';
import { pretty } from '../format.ts';
import { Async, Badge, Empty, useAsync } from '../ui.tsx';

export function EventTypeList({ api }: { api: Api }) {
  const types = useAsync(() => api.get<Page<EventType>>('/v1/event-types', { limit: 250 }), [api]);
  return (
    <Async state={types} what="Loading event types">
      {(p) =>
        p.data.length === 0 ? (
          <Empty>No event types are registered.</Empty>
        ) : (
          <ul className="list" aria-label="Event types">
            {p.data.map((t) => (
              <li key={t.name} className="list-item">
                <span className="strong">
                  {t.name} {t.archived && <Badge tone="neutral">archived</Badge>}
                </span>
                <span className="meta">{t.description || 'No description'}</span>
                {t.schema && (
                  <details>
                    <summary>Schema and example</summary>
                    <pre className="code" tabIndex={0} aria-label={`Schema of ${t.name}`}>
                      {pretty(t.schema)}
                    </pre>
                    <p className="muted">Example payload</p>
                    <pre className="code" tabIndex={0} aria-label={`Example payload of ${t.name}`}>
                      {pretty(exampleOf(t.schema))}
                    </pre>
                  </details>
                )}
              </li>
            ))}
          </ul>
        )
      }
    </Async>
  );
}

/** An example value for a JSON Schema: its `examples[0]`/`example`/`default`, else built from its type. */
export function exampleOf(s: unknown, depth = 0): unknown {
  if (!s || typeof s !== 'object' || depth > 6) return null;
  const o = s as Record<string, unknown>;
  if (Array.isArray(o.examples) && o.examples.length) return o.examples[0];
  if ('example' in o) return o.example;
  if ('default' in o) return o.default;
  if (Array.isArray(o.enum) && o.enum.length) return o.enum[0];
  const type = Array.isArray(o.type) ? o.type[0] : o.type;
  switch (type) {
    case 'object': {
      const props = (o.properties ?? {}) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, exampleOf(v, depth + 1)]));
    }
    case 'array':
      return [exampleOf(o.items, depth + 1)];
    case 'string':
      return o.format === 'date-time' ? new Date(0).toISOString() : 'string';
    case 'integer':
    case 'number':
      return 0;
    case 'boolean':
      return true;
    default:
      return o.properties ? exampleOf({ ...o, type: 'object' }, depth) : null;
  }
}
