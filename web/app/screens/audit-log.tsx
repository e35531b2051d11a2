import { useState } from 'react';
import type { Page } from '../../shared/api.ts';
import { fmtDate } from '../../shared/format.ts';
import { Async, Empty, useAsync } from '../../shared/ui.tsx';
import type { Ctx } from '../app.tsx';

interface AuditEntry {
  id: string;
  actor: string;
  action: string;
  target: string | null;
  ip: string | null;
  status: number | null;
  createdAt?: string;
  at?: string;
}

export function AuditLog({ ctx }: { ctx: Ctx }) {
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1];
  const list = useAsync(() => ctx.api.get<Page<AuditEntry>>('/v1/audit-log', { limit: 50, cursor }), [ctx.api, cursor]);
  return (
    <Async state={list} what="Loading the audit log">
      {(p) =>
        p.data.length === 0 ? (
          <Empty>Nothing has changed yet.</Empty>
        ) : (
          <>
            <div className="table-wrap">
              <table aria-label="Audit log">
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Who</th>
                    <th scope="col">What</th>
                    <th scope="col">Target</th>
                    <th scope="col">From</th>
                  </tr>
                </thead>
                <tbody>
                  {p.data.map((a) => (
                    <tr key={a.id}>
                      <td>{fmtDate(a.createdAt ?? a.at)}</td>
                      <td className="break">{a.actor}</td>
                      <td>{a.action}</td>
                      <td className="break">{a.target ?? '—'}</td>
                      <td>{a.ip ?? '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div className="row">
              {cursors.length > 0 && (
                <button type="button" className="btn" onClick={() => setCursors(cursors.slice(0, -1))}>
                  Newer
                </button>
              )}
              {p.nextCursor && (
                <button type="button" className="btn" onClick={() => setCursors([...cursors, p.nextCursor!])}>
                  Older
                </button>
              )}
            </div>
          </>
        )
      }
    </Async>
  );
}
