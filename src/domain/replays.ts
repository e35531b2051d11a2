import { AppError, notFound } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { newId } from '../store/ids.ts';
import * as endpoints from '../store/endpoints.ts';
import * as store from '../store/replay-jobs.ts';
import type { DomainDeps } from './deps.ts';
import { requireConsumer } from './consumers.ts';

export type ReplayJob = store.ReplayJob;
export type ReplayFilter = store.ReplayFilter;

/** Messages queued per statement while a replay runs. */
export const REPLAY_BATCH = 500;

export interface ReplayInput {
  eventTypes?: string[] | undefined;
  channel?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  status?: ReplayFilter['status'];
}

async function requireEndpoint(q: Parameters<typeof endpoints.getEndpoint>[0], consumerRef: string, endpointId: string) {
  const consumer = await requireConsumer(q, consumerRef);
  const e = await endpoints.getEndpoint(q, consumer.id, endpointId);
  if (!e) throw notFound('Endpoint');
  return { consumer, endpoint: e };
}

/**
 * A bulk replay: every message of the consumer matching the filter is sent to the endpoint again, oldest first.
 * It is a job: created at once with how many messages match (`total`), then queued in batches by the scheduler;
 * `queued` says how far it is. A disabled endpoint answers 409.
 */
export async function createReplay(
  deps: DomainDeps,
  tenantId: string,
  consumerRef: string,
  endpointId: string,
  input: ReplayInput,
): Promise<ReplayJob> {
  if (input.since && input.until && input.since >= input.until) {
    throw new AppError('VALIDATION', 'since must be before until', { errors: [{ field: 'body.until', message: 'must be after since' }] });
  }
  const filter: ReplayFilter = {
    ...(input.eventTypes?.length ? { eventTypes: [...new Set(input.eventTypes)] } : {}),
    ...(input.channel ? { channel: input.channel } : {}),
    ...(input.since ? { since: input.since.toISOString() } : {}),
    ...(input.until ? { until: input.until.toISOString() } : {}),
    ...(input.status?.length ? { status: [...new Set(input.status)] } : {}),
  };
  return deps.db.tenant(tenantId, async (q) => {
    const { consumer, endpoint } = await requireEndpoint(q, consumerRef, endpointId);
    if (endpoint.disabled) throw new AppError('CONFLICT', 'The endpoint is disabled; enable it before replaying');
    return store.insertReplayJob(q, { id: newId('rpl'), tenantId, consumerId: consumer.id, endpointId: endpoint.id, filter });
  });
}

export const getReplay = (deps: DomainDeps, tenantId: string, consumerRef: string, endpointId: string, id: string): Promise<ReplayJob> =>
  deps.db.tenant(tenantId, async (q) => {
    const { endpoint } = await requireEndpoint(q, consumerRef, endpointId);
    const j = await store.getReplayJob(q, endpoint.id, id);
    if (!j) throw notFound('Replay');
    return j;
  });

export const listReplays = (deps: DomainDeps, tenantId: string, consumerRef: string, endpointId: string): Promise<ReplayJob[]> =>
  deps.db.tenant(tenantId, async (q) => store.listReplayJobs(q, (await requireEndpoint(q, consumerRef, endpointId)).endpoint.id));

/**
 * The scheduler's share: advances every running replay by up to `batchesPerJob` batches. Each batch is its own
 * transaction under the job's tenant, so a huge replay never holds locks for long. Returns messages queued.
 */
export async function processReplays(db: Db, o: { batch?: number; batchesPerJob?: number } = {}): Promise<number> {
  const batch = o.batch ?? REPLAY_BATCH;
  const jobs = await db.system((q) => store.listRunningJobs(q, 20));
  let queued = 0;
  for (const j of jobs) {
    for (let i = 0; i < (o.batchesPerJob ?? 4); i++) {
      const n = await db.tenant(j.tenantId, (q) =>
        store.advanceReplayJob(q, j.id, batch, () => Array.from({ length: batch }, () => newId('dlv'))),
      );
      if (n === null) break;
      queued += n;
      if (n < batch) break;
    }
  }
  return queued;
}
