import { sleep } from '../../helpers/process.ts';
import type { ChaosDatabase } from './fleet.ts';
import type { Accepted, Load } from './load.ts';
import type { ChaosReceiver } from './receiver.ts';
import type { Check } from './scenario.ts';

/**
 * The check every scenario ends with: every publish answered 202 (or 200, the replay of a commit whose
 * answer was lost) reached its endpoint and was answered 2xx there; lost = 0. Duplicates are counted by
 * webhook-id: a second 2xx for the same endpoint and message.
 */
export interface Conservation {
  accepted: number;
  delivered: number;
  lost: number;
  duplicates: number;
  duplicatePercent: number;
  /** Messages delivered more than once, and the most times one was. */
  duplicatedMessages: number;
  maxCopies: number;
  /** Deliveries in the database by state once drained (all `succeeded` when nothing was lost). */
  states: Record<string, number>;
  drainMs: number;
  /** Examples of lost messages (at most 5). */
  lostExamples: string[];
}

const pairOf = (a: Accepted): string => `${a.endpointKey} ${a.messageId}`;

/** Waits (at most `timeoutMs`) until every accepted message has been answered 2xx, then counts. */
export async function conserve(
  rx: ChaosReceiver,
  load: Pick<Load, 'accepted' | 'done'>,
  db: ChaosDatabase,
  timeoutMs: number,
  only?: (a: Accepted) => boolean,
): Promise<Conservation> {
  await load.done;
  const started = Date.now();
  const accepted = only ? load.accepted.filter(only) : load.accepted;
  let missing = accepted.filter((a) => !rx.ok.has(pairOf(a)));
  while (missing.length > 0 && Date.now() - started < timeoutMs) {
    await sleep(250);
    missing = missing.filter((a) => !rx.ok.has(pairOf(a)));
  }
  const drainMs = Date.now() - started;
  // The outcome of the last attempts may be recorded a moment after the receiver answered them.
  let states: Record<string, number> = {};
  for (let i = 0; i < 40; i++) {
    const rows = await db.query<{ state: string; n: number }>('SELECT state, count(*)::int AS n FROM deliveries GROUP BY state');
    states = Object.fromEntries(rows.map((r) => [r.state, r.n]));
    if (missing.length > 0 || Object.keys(states).every((s) => s === 'succeeded' || s === 'failed')) break;
    await sleep(250);
  }
  const wanted = new Set(accepted.map(pairOf));
  let duplicates = 0;
  let duplicatedMessages = 0;
  let maxCopies = 0;
  for (const [pair, n] of rx.ok) {
    if (!wanted.has(pair)) continue;
    maxCopies = Math.max(maxCopies, n);
    if (n > 1) {
      duplicates += n - 1;
      duplicatedMessages++;
    }
  }
  const delivered = accepted.length - missing.length;
  return {
    accepted: accepted.length,
    delivered,
    lost: missing.length,
    duplicates,
    duplicatePercent: accepted.length ? Math.round((duplicates / accepted.length) * 1e5) / 1e3 : 0,
    duplicatedMessages,
    maxCopies,
    states,
    drainMs,
    lostExamples: missing.slice(0, 5).map(pairOf),
  };
}

/** The checks every scenario shares: nothing lost, nothing left undelivered in the queue, signatures good. */
export function conservationChecks(c: Conservation, rx: ChaosReceiver): Check[] {
  return [
    [`lost ${c.lost} (expected 0), e.g. ${c.lostExamples.join(', ')}`, c.lost === 0],
    [`delivered ${c.delivered} of ${c.accepted}`, c.delivered === c.accepted],
    [`bad signatures: ${rx.badSignatures.slice(0, 3).join(' | ')}`, rx.badSignatures.length === 0],
  ];
}
