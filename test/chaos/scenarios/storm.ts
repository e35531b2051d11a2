import { DEFAULT_RETRY_SCHEDULE_MS, DEFAULT_JITTER } from '../../../src/domain/retry-schedule.ts';
import { sleep } from '../../helpers/process.ts';
import { conservationChecks, conserve } from '../lib/conservation.ts';
import { createDatabase, startFleet } from '../lib/fleet.ts';
import { percentile, provision, startLoad } from '../lib/load.ts';
import { startChaosReceiver } from '../lib/receiver.ts';
import type { Scenario } from '../lib/scenario.ts';

/**
 * (6) A 5xx storm for a simulated day: one endpoint answers 500 to everything while another endpoint of the
 * same tenant is healthy. The default schedule (immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: about
 * 28 h) runs compressed (÷1000 in full, ÷10000 short): every failing delivery gets exactly its 8 attempts, each
 * gap within the schedule's ±20 % jitter (plus the worker's poll), then ends `failed`; the healthy endpoint gets
 * everything at once. The breaker is set to disable the endpoint once every storm message has exhausted its attempts
 * (TRAMLINE_DISABLE_AFTER_MESSAGES): it must end disabled by policy, with its reason, and the healthy one enabled.
 */
export const storm: Scenario = {
  name: 'storm',
  guarantees:
    'an endpoint answering 500 for a (compressed) day: its deliveries follow the retry schedule (8 attempts, each gap within ±20 % jitter) and end failed, the endpoint ends disabled by policy, another endpoint of the same tenant is unaffected',
  async run(size) {
    const p = size === 'full' ? { factor: 1000, storm: 50, healthy: 2_000 } : { factor: 10_000, storm: 10, healthy: 200 };
    const scheduleMs = DEFAULT_RETRY_SCHEDULE_MS.map((ms) => Math.round(ms / p.factor));
    const db = await createDatabase();
    let stormKey = '';
    const rx = await startChaosReceiver((key) => (key === stormKey ? '500' : 'ok'));
    const fleet = await startFleet(db, [{ role: 'api' }, { role: 'worker' }], {
      TRAMLINE_RETRY_SCHEDULE: scheduleMs.map((ms) => `${ms}ms`).join(','),
      TRAMLINE_POLL_INTERVAL: '100ms',
      TRAMLINE_DISABLE_AFTER_MESSAGES: String(p.storm),
    });
    try {
      const [stormy, healthy] = await provision(fleet.apiUrls[0]!, rx, { tenants: 1, endpointsPerTenant: 2 });
      stormKey = stormy!.endpointKey;
      const stormLoad = startLoad({ apiUrls: fleet.apiUrls, targets: [stormy!], messages: p.storm, concurrency: 2 });
      const healthyLoad = startLoad({ apiUrls: fleet.apiUrls, targets: [healthy!], messages: p.healthy, concurrency: 4 });
      const c = await conserve(rx, healthyLoad, db, 60_000);
      await stormLoad.done;
      const simulatedMs = scheduleMs.reduce((a, b) => a + b, 0);
      const deadline = Date.now() + simulatedMs * 1.3 + 60_000;
      let open: number;
      do {
        await sleep(500);
        open = (
          await db.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM deliveries WHERE endpoint_id = $1 AND state IN ('pending', 'sending')`,
            [stormy!.endpointId],
          )
        )[0]!.n;
      } while (open > 0 && Date.now() < deadline);
      const attempts = await db.query<{ delivery_id: string; started_at: Date; duration_ms: number }>(
        `SELECT delivery_id, started_at, duration_ms FROM attempts WHERE endpoint_id = $1 ORDER BY delivery_id, attempt`,
        [stormy!.endpointId],
      );
      const byDelivery = new Map<string, Array<{ start: number; end: number }>>();
      for (const a of attempts) {
        const list = byDelivery.get(a.delivery_id) ?? [];
        list.push({ start: a.started_at.getTime(), end: a.started_at.getTime() + a.duration_ms });
        byDelivery.set(a.delivery_id, list);
      }
      // Gap k (after attempt k): scheduleMs[k] ± jitter, late by at most the poll interval and a loaded machine.
      const offSchedule: string[] = [];
      const worstLateMs: number[] = Array(scheduleMs.length).fill(0);
      for (const [id, list] of byDelivery) {
        for (let k = 1; k < list.length; k++) {
          const gap = list[k]!.start - list[k - 1]!.end;
          const want = scheduleMs[k]!;
          const lo = want * (1 - DEFAULT_JITTER) - 50;
          const hi = want * (1 + DEFAULT_JITTER) + 2_000;
          worstLateMs[k] = Math.max(worstLateMs[k]!, Math.round(gap - want * (1 + DEFAULT_JITTER)));
          if (gap < lo || gap > hi) offSchedule.push(`${id} gap ${k}: ${gap} ms, schedule ${want} ms`);
        }
      }
      // The last exhausted message trips the breaker, in the worker's record stage just after its last attempt.
      const endpointState = async () =>
        await db.query<{ id: string; disabled: boolean; disabled_reason: string | null }>(
          'SELECT id, disabled, disabled_reason FROM endpoints WHERE id = ANY($1)',
          [[stormy!.endpointId, healthy!.endpointId]],
        );
      let endpoints = await endpointState();
      for (let i = 0; i < 40 && !endpoints.find((e) => e.id === stormy!.endpointId)?.disabled; i++) {
        await sleep(250);
        endpoints = await endpointState();
      }
      const stormEndpoint = endpoints.find((e) => e.id === stormy!.endpointId)!;
      const healthyEndpoint = endpoints.find((e) => e.id === healthy!.endpointId)!;
      const states = await db.query<{ state: string; n: number }>(
        `SELECT state, count(*)::int AS n FROM deliveries WHERE endpoint_id = $1 GROUP BY state`,
        [stormy!.endpointId],
      );
      const stormStates = Object.fromEntries(states.map((s) => [s.state, s.n]));
      const counts = [...byDelivery.values()].map((l) => l.length);
      const healthyLatency = healthyLoad.accepted.map((a) => (rx.firstOkAt.get(`${a.endpointKey} ${a.messageId}`) ?? a.sentAt) - a.sentAt);
      return {
        figures: {
          conservation: c,
          compressedBy: p.factor,
          simulatedScheduleMs: scheduleMs,
          stormDeliveries: stormLoad.accepted.length,
          stormStates,
          attemptsPerDelivery: [...new Set(counts)],
          worstLateBeyondJitterMs: worstLateMs,
          healthyP99Ms: percentile(healthyLatency, 99),
          stormEndpoint: { disabled: stormEndpoint.disabled, reason: stormEndpoint.disabled_reason },
        },
        checks: [
          ...conservationChecks(c, rx),
          [
            `storm deliveries not all failed after their attempts: ${JSON.stringify(stormStates)}`,
            stormStates.failed === stormLoad.accepted.length && Object.keys(stormStates).length === 1,
          ],
          [
            `attempts per storm delivery ${JSON.stringify([...new Set(counts)])} (want ${scheduleMs.length})`,
            counts.length === stormLoad.accepted.length && counts.every((n) => n === scheduleMs.length),
          ],
          [`gaps off the schedule: ${offSchedule.slice(0, 5).join('; ')}`, offSchedule.length === 0],
          [
            `storm endpoint not disabled by policy: ${JSON.stringify(stormEndpoint)}`,
            stormEndpoint.disabled && /in a row|fail/i.test(stormEndpoint.disabled_reason ?? ''),
          ],
          [`healthy endpoint disabled: ${JSON.stringify(healthyEndpoint)}`, !healthyEndpoint.disabled],
        ],
      };
    } finally {
      await fleet.stop();
      await rx.close();
      await db.drop();
    }
  },
};
