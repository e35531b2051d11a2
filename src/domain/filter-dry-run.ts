import { listMessages } from '../store/messages.ts';
import type { DomainDeps } from './deps.ts';
import { requireConsumer } from './consumers.ts';
import { compileFilter, filterProblem } from './payload-filter.ts';

export interface DryRunResult {
  evaluated: number;
  matched: number;
  data: Array<{ messageId: string; eventType: string; createdAt: Date; matched: boolean }>;
}

/** Which of the consumer's latest `limit` messages a payload filter would let through (nothing is sent or saved). */
export async function dryRunFilter(
  deps: DomainDeps,
  tenantId: string,
  consumerRef: string,
  input: { filter: string; limit: number },
): Promise<DryRunResult> {
  const c = compileFilter(input.filter);
  if (!c.ok) throw filterProblem(c.problem);
  const page = await deps.db.tenant(tenantId, async (q) =>
    listMessages(q, (await requireConsumer(q, consumerRef)).id, {}, { limit: input.limit }),
  );
  const data = page.data.map((m) => ({
    messageId: m.id,
    eventType: m.eventType,
    createdAt: m.createdAt,
    matched: c.filter({ payload: JSON.parse(m.payload) as unknown, eventType: m.eventType, channels: m.channels ?? [] }),
  }));
  return { evaluated: data.length, matched: data.filter((d) => d.matched).length, data };
}
