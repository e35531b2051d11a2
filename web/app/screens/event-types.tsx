import { useState } from 'react';
import { EventTypeList } from '../../shared/consumer-views.tsx';
import { Field, Form } from '../../shared/ui.tsx';
import type { Ctx } from '../app.tsx';

export function EventTypes({ ctx }: { ctx: Ctx }) {
  const [adding, setAdding] = useState(false);
  const [n, setN] = useState(0);
  return (
    <>
      {ctx.canChange && !adding && (
        <div className="row">
          <button type="button" className="btn primary" onClick={() => setAdding(true)}>
            New event type
          </button>
        </div>
      )}
      {adding && (
        <Form
          label="New event type"
          submitLabel="Create event type"
          onCancel={() => setAdding(false)}
          onSubmit={async (f) => {
            const raw = String(f.get('schema') ?? '').trim();
            let schema: unknown;
            if (raw) {
              try {
                schema = JSON.parse(raw);
              } catch {
                throw new Error('The schema is not valid JSON');
              }
            }
            await ctx.api.post('/v1/event-types', { name: String(f.get('name')), description: String(f.get('description') ?? ''), ...(schema ? { schema } : {}) });
            setAdding(false);
            setN(n + 1);
          }}
        >
          <Field label="Name" hint="e.g. invoice.paid">
            {(p) => <input {...p} name="name" required pattern="[A-Za-z0-9_.:-]+" />}
          </Field>
          <Field label="Description">{(p) => <input {...p} name="description" />}</Field>
          <Field label="JSON Schema of the payload" hint="Optional">
            {(p) => <textarea {...p} name="schema" placeholder='{"type":"object","properties":{"id":{"type":"string"}}}' />}
          </Field>
        </Form>
      )}
      <EventTypeList key={n} api={ctx.api} />
    </>
  );
}
