import type { Engine, BenchDatabase } from './database.ts';
import { createDatabase } from './database.ts';
import { startGateway, type Layout, type RunningGateway } from './gateway.ts';
import { TramlineApi } from './api.ts';
import type { Receiver } from './receiver.ts';
import { CpuMeter } from './cpu.ts';

/** What every scenario gets from run.ts. */
export interface BenchContext {
  readonly engine: Engine;
  readonly smoke: boolean;
  readonly receiver: Receiver;
  /** Process layout of the gateway (see gateway.ts); PGlite always runs `all`. */
  readonly layout: Layout;
  readonly cost: { pricePerHour: number; instance: string; vcpus: number };
  /** Options a scenario may read (e.g. backlog size). */
  readonly options: { backlog?: number };
  /** Figures earlier scenarios of this invocation produced, by `scenario.engine` (the reference ratio needs max-sustained's). */
  readonly earlier: Map<string, ScenarioResult>;
  log(msg: string): void;
}

export interface ScenarioResult {
  scenario: string;
  engine: Engine | 'reference';
  layout: string;
  /** One table of detail rows, printed as is. */
  rows: Record<string, string | number>[];
  /** Headline figures, named, for the summary and the JSON. */
  figures: Record<string, number>;
  notes: string[];
}

export type Scenario = (ctx: BenchContext) => Promise<ScenarioResult>;

export interface Setup {
  db: BenchDatabase;
  gw: RunningGateway;
  api: TramlineApi;
}

/** A fresh database, the gateway on it and a tenant; all torn down after `fn`, whatever happens. */
export async function withGateway<T>(
  ctx: BenchContext,
  label: string,
  fn: (s: Setup) => Promise<T>,
  extraEnv?: Record<string, string>,
): Promise<T> {
  await ctx.receiver.reset();
  const db = await createDatabase(ctx.engine, label);
  let gw: RunningGateway | null = null;
  let api: TramlineApi | null = null;
  try {
    gw = await startGateway({ dbEnv: db.env, layout: ctx.engine === 'pglite' ? 'all' : ctx.layout, extraEnv });
    api = new TramlineApi(gw.url);
    await api.createTenant();
    return await fn({ db, gw, api });
  } finally {
    await api?.close();
    await gw?.stop();
    await db.drop();
    ctx.receiver.onArrivals(null);
  }
}

export interface CpuUsage {
  gatewayCpuS: number;
  postgresCpuS: number;
}

/** CPU seconds of the gateway's processes and of the database's Postgres backends from now to stop(). */
export async function measureCpu(gwPids: () => number[], db: { backendPids(): Promise<number[]> }): Promise<{ stop(): Promise<CpuUsage> }> {
  const g = new CpuMeter(gwPids);
  const p = new CpuMeter(() => db.backendPids());
  await Promise.all([g.start(), p.start()]);
  return { stop: async () => ({ gatewayCpuS: await g.stop(), postgresCpuS: await p.stop() }) };
}

/** CPU-seconds per million events, and what they cost on the named instance (price per hour shared by its vCPUs). */
export function costPerMillion(ctx: BenchContext, cpuS: number, events: number): { cpuSPerMillion: number; costPerMillion: number } {
  if (events <= 0) return { cpuSPerMillion: NaN, costPerMillion: NaN };
  const cpuSPerMillion = (cpuS / events) * 1e6;
  const cost = (ctx.cost.pricePerHour / ctx.cost.vcpus / 3600) * cpuSPerMillion;
  return { cpuSPerMillion: Math.round(cpuSPerMillion * 10) / 10, costPerMillion: Math.round(cost * 10000) / 10000 };
}
