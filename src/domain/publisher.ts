import { AppError, notFound } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { newId } from '../store/ids.ts';
import * as messages from '../store/messages.ts';
import * as deliveries from '../store/deliveries.ts';
import type { EventCatalog } from './event-catalog.ts';
import { createFilterCache } from './payload-filter.ts';

export type Message = messages.Message;

export interface PublishInput {
  eventType: string;
  /** Validated JSON text of the payload. */
  payload: string;
  /** The payload parsed (the route has it already); parsed from `payload` when absent and needed. */
  payloadValue?: unknown;
  eventId?: string | undefined;
  channels?: string[] | undefined;
  /** The publish span's W3C traceparent (tracing on), stored so delivery spans can link to it. */
  traceparent?: string | undefined;
}

export interface PublishResult {
  message: Message;
  /** False when the eventId was seen before: `message` is then the original. */
  created: boolean;
  deliveries: number;
}

export interface Publisher {
  /** Resolves once the message and its deliveries are committed (or rejects); the caller answers 202 only then. */
  publish(tenantId: string, consumerRef: string, input: PublishInput): Promise<PublishResult>;
}

export interface PublisherOptions {
  /** Most publishes committed in one transaction. */
  maxBatch?: number;
  /** Transactions of one tenant's publishes open at once (PGlite has one connection: 1). */
  maxInFlightPerTenant?: number;
  /** Declared types and schemas checked before the commit; absent: none checked. */
  catalog?: EventCatalog | undefined;
}

interface Pending {
  row: messages.NewMessage;
  /** The parsed payload, for payload filters. */
  value: () => unknown;
  resolve(r: PublishResult): void;
  reject(err: unknown): void;
}

/**
 * Group commit. Publishes that arrive while a tenant's previous commit is in flight wait for it
 * and then go together in one transaction: one multi-row insert of messages, one of deliveries,
 * one WAL flush. Nothing waits on a timer: an idle gateway commits a lone publish at once, and
 * under load the batch grows to what arrived during one commit (the "few ms window" is the
 * commit itself). Every publish still answers only after its own commit.
 *
 * Batches are per tenant because every transaction runs under that tenant's row-level-security
 * role; a batch never mixes tenants. One publish's bad outcome (unknown consumer) is a value, not a
 * rollback of its neighbours; if a whole batch fails unexpectedly, each publish is retried alone,
 * so one bad row cannot fail the others.
 */
export function createPublisher(db: Db, o: PublisherOptions = {}): Publisher {
  const maxBatch = o.maxBatch ?? 256;
  const maxInFlight = o.maxInFlightPerTenant ?? (db.kind === 'pglite' ? 1 : 2);
  const tenants = new Map<string, { queue: Pending[]; inFlight: number }>();
  const filters = createFilterCache();

  function pump(tenantId: string): void {
    const t = tenants.get(tenantId);
    if (!t) return;
    while (t.inFlight < maxInFlight && t.queue.length > 0) {
      const batch = t.queue.splice(0, maxBatch);
      t.inFlight++;
      void run(tenantId, batch).finally(() => {
        t.inFlight--;
        if (t.inFlight === 0 && t.queue.length === 0) tenants.delete(tenantId);
        else pump(tenantId);
      });
    }
  }

  async function run(tenantId: string, batch: Pending[]): Promise<void> {
    let results: Array<PublishResult | Error>;
    try {
      results = await commit(db, tenantId, batch, filters);
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
      await Promise.all(batch.map((p) => run(tenantId, [p])));
      return;
    }
    batch.forEach((p, i) => {
      const r = results[i]!;
      if (r instanceof Error) p.reject(r);
      else p.resolve(r);
    });
  }

  return {
    async publish(tenantId, consumerRef, input) {
      let parsed: { v: unknown } | undefined = 'payloadValue' in input ? { v: input.payloadValue } : undefined;
      const value = (): unknown => (parsed ??= { v: JSON.parse(input.payload) as unknown }).v;
      // Before the batch: a payload its schema refuses is answered 422 and never committed.
      if (o.catalog) await o.catalog.check(tenantId, input.eventType, value());
      const id = newId('msg');
      const row: messages.NewMessage = {
        id,
        consumerRef,
        eventType: input.eventType,
        eventId: input.eventId ?? id,
        payload: input.payload,
        channels: input.channels && input.channels.length > 0 ? [...new Set(input.channels)] : null,
        traceparent: input.traceparent ?? null,
      };
      return new Promise((resolve, reject) => {
        let t = tenants.get(tenantId);
        if (!t) tenants.set(tenantId, (t = { queue: [], inFlight: 0 }));
        t.queue.push({ row, value, resolve, reject });
        pump(tenantId);
      });
    },
  };
}

/**
 * The endpoints a message goes to beyond the plain ones: those whose payload filter matches (queued, or
 * skipped when disabled), and disabled ones without a filter (skipped). A filter that does not match makes
 * no delivery at all, like an event-type or channel filter.
 */
function decideConditional(
  p: Pending,
  conditional: readonly messages.ConditionalEndpoint[],
  filters: ReturnType<typeof createFilterCache>,
): { queued: string[]; skipped: string[] } {
  const queued: string[] = [];
  const skipped: string[] = [];
  for (const e of conditional) {
    if (e.filter !== null) {
      const ctx = { payload: p.value(), eventType: p.row.eventType, channels: p.row.channels ?? [] };
      if (!filters.get(e.filter)(ctx)) continue;
    }
    (e.disabled ? skipped : queued).push(e.id);
  }
  return { queued, skipped };
}

/** One transaction for a batch of one tenant's publishes; each outcome is a result or an error value. */
async function commit(
  db: Db,
  tenantId: string,
  batch: Pending[],
  filters: ReturnType<typeof createFilterCache>,
): Promise<Array<PublishResult | Error>> {
  const rows = batch.map((p) => p.row);
  return db.tenant(tenantId, async (q) => {
    const outcomes = await messages.insertMessages(q, tenantId, rows);
    const queued: Array<{ messageId: string; endpointIds: readonly string[]; skippedIds?: string[] }> = [];
    const counts: number[] = [];
    const duplicates: Array<{ consumerId: string; eventId: string }> = [];
    outcomes.forEach((r, i) => {
      if (r.kind === 'inserted') {
        if (r.conditional.length === 0) queued.push({ messageId: r.message.id, endpointIds: r.endpointIds });
        else {
          const c = decideConditional(batch[i]!, r.conditional, filters);
          queued.push({ messageId: r.message.id, endpointIds: [...r.endpointIds, ...c.queued], skippedIds: c.skipped });
        }
        counts[i] = queued[queued.length - 1]!.endpointIds.length;
      } else if (r.kind === 'duplicate') duplicates.push({ consumerId: r.consumerId, eventId: rows[i]!.eventId });
    });
    // Without repeats to look up, the deliveries are the last statement: COMMIT goes with them.
    await deliveries.enqueue(q, tenantId, queued, () => newId('dlv'), { last: duplicates.length === 0 });
    const originals = duplicates.length > 0 ? await messages.findMessagesByEventIds(q, duplicates) : new Map<string, Message>();
    return outcomes.map((r, i): PublishResult | Error => {
      switch (r.kind) {
        case 'no-consumer':
          return notFound('Consumer');
        case 'inserted':
          return { message: r.message, created: true, deliveries: counts[i]! };
        case 'duplicate': {
          const original = originals.get(`${r.consumerId} ${rows[i]!.eventId}`);
          // Only possible when the original's transaction rolled back under us.
          return original
            ? { message: original, created: false, deliveries: 0 }
            : new AppError('CONFLICT', 'The eventId is being published concurrently; retry');
        }
      }
    });
  });
}
