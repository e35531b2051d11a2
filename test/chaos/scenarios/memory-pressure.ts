import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, sleep, spawnTramline, type Exit, type TramlineProcess } from '../../helpers/process.ts';
import { conservationChecks, conserve } from '../lib/conservation.ts';
import { baseEnv, rssOf } from '../lib/fleet.ts';
import { percentile, provision, startLoad } from '../lib/load.ts';
import { createMemoryCgroup, memoryCgroupUnavailable } from '../lib/memory-cgroup.ts';
import { startChaosReceiver } from '../lib/receiver.ts';
import { mb, type Scenario } from '../lib/scenario.ts';

const KIB = 1024;
const MIB = 1024 * KIB;

/**
 * (9b) Memory pressure on the laptop layout: one `tramline start` process with its database embedded (PGlite lives
 * in the process), inside a memory cgroup of its own, as a container runtime or Kubernetes runs it, publishers
 * sending 200 KiB payloads among small ones, and a supervisor that restarts the gateway whenever it exits (as
 * Kubernetes restarts a pod the OOM killer ended). The limits are its resident memory at rest plus a little:
 * - phase 1 (full run): +32 MB, set before it starts, so node sizes its heap by it: it keeps answering, slower;
 * - phase 2: +16 MB set in place on a gateway started without a limit: garbage piles up until the OOM killer ends
 *   it, and the supervisor brings it back (under the limit, now known at the start).
 * Either way every 202 is delivered (a 202 not yet stored would be lost at the kill) and no answer is a 5xx
 * other than 503 (with Retry-After).
 */
export const memoryPressure: Scenario = {
  name: 'memory-pressure',
  guarantees:
    'the one-process gateway with its embedded database under a cgroup memory limit, publishing 200 KiB payloads: it keeps answering or, ended by the OOM killer, is restarted by its supervisor; never a 202 without storing, lost 0',
  async run(size, log) {
    const headroomMb = Number(process.env.CHAOS_MEMORY_HEADROOM_MB ?? 32);
    // Phase 1 (full run only) loads the gateway for `squeezeMs` under a limit it knew at its start; phase 2 goes on until
    // it has been OOM-killed and restarted and the restart has taken `after` publishes (at most `killMaxMs`).
    const p =
      size === 'full'
        ? { squeezeMs: 60_000, killMaxMs: 120_000, after: 300, concurrency: 8 }
        : { squeezeMs: 0, killMaxMs: 30_000, after: 20, concurrency: 6 };
    const why = memoryCgroupUnavailable();
    if (why) throw new Error(`memory-pressure needs a memory cgroup it can create (as root): ${why}`);
    const cg = createMemoryCgroup(`tramline-chaos-memory-${process.pid}-${randomBytes(3).toString('hex')}`);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-chaos-memory-'));
    const rx = await startChaosReceiver();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const env = baseEnv('', { PORT: String(port), TRAMLINE_DATA_DIR: dataDir });
    delete (env as Record<string, string | undefined>).DATABASE_URL;
    const t0 = Date.now();
    let gw: TramlineProcess | null = null;
    let stopping = false;
    let up = false;
    const exits: Array<Exit & { atS: number; heapExhausted: boolean; planned: boolean }> = [];
    let planned = false;
    const backInMs: number[] = [];
    const launch = async (name: string): Promise<void> => {
      const g = spawnTramline(['start', '--role', 'all'], env, { name, launcher: cg.launcher() });
      gw = g;
      up = false;
      await g.waitForReady(base, 120_000);
      up = true;
    };
    const isUp = (): boolean => up && gw !== null && (gw as TramlineProcess).exit === null;
    let supervisor: Promise<void> = Promise.resolve();
    let liftLimitOnExit = false;
    const samples: Array<{ atMs: number; cgroupMb: number; rssMb: number }> = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        samples.push({ atMs: Date.now() - t0, cgroupMb: mb(cg.usage()), rssMb: mb(gw ? rssOf((gw as TramlineProcess).pid) : 0) });
        await sleep(500);
      }
    })();
    try {
      // The data folder first (its first start runs initdb, which peaks far above the steady state, and stays there),
      // with the tenants and endpoints; then a start on it without a limit, measured once settled.
      await launch('gateway-init');
      const targets = await provision(base, rx, { tenants: 2, endpointsPerTenant: 2 });
      await (gw as TramlineProcess | null)?.stop(10_000);
      await launch('gateway-0');
      await sleep(2_000);
      const restRss = rssOf((gw as TramlineProcess | null)?.pid ?? 0);
      const limit = restRss + headroomMb * MIB;
      log(`at rest: RSS ${mb(restRss)} MB${p.squeezeMs > 0 ? `; phase 1 limit ${mb(limit)} MB (+${headroomMb} MB)` : ''}`);
      const phase1From = samples.length;
      const loadStarted = Date.now();
      // The supervisor: a gateway that exits is started again (what Kubernetes does for a pod the OOM killer ended).
      supervisor = (async () => {
        while (!stopping && gw) {
          const g: TramlineProcess = gw;
          const e = await g.exited;
          if (stopping) return;
          const heapExhausted = /heap out of memory|Allocation failed/i.test(g.output());
          exits.push({ ...e, atS: Math.round((Date.now() - t0) / 1000), heapExhausted, planned });
          planned = false;
          log(
            `${g.name} exited ${JSON.stringify(e)}${heapExhausted ? ' (V8 heap exhausted)' : ''}, OOM kills so far ${cg.oomKills()}; restarting`,
          );
          // After the OOM kill the limit is lifted, as an operator raises a pod's limit after an OOMKilled: the
          // point is what a kill loses, and the same tight limit only made each restart die before it was ready.
          if (liftLimitOnExit) cg.limit(-1);
          const at = Date.now();
          try {
            await launch(`gateway-${exits.length}`);
            backInMs.push(Date.now() - at);
          } catch (err) {
            log(`restart: ${(err as Error).message.split('\n')[0]}`);
          }
        }
      })();
      // Every other message carries 200 KiB; the rest are small.
      const load = startLoad({
        apiUrls: [base],
        targets,
        messages: 1_000_000,
        concurrency: p.concurrency,
        giveUpMs: 180_000,
        padBytes: (i) => (i % 2 === 0 ? 200 * KIB : 0),
      });
      // Phase 1 (the full run): a gateway restarted under the limit, which node reads at its start (it sizes its heap
      // by it): it keeps answering.
      let squeeze: Record<string, number> | null = null;
      if (p.squeezeMs > 0) {
        cg.limit(limit);
        planned = true;
        await (gw as TramlineProcess | null)?.stop(10_000);
        for (let i = 0; i < 1200 && !isUp(); i++) await sleep(100);
        const from = { accepted: load.accepted.length, latencies: load.latencies.length, samples: samples.length, exits: exits.length };
        await sleep(p.squeezeMs);
        squeeze = {
          accepted: load.accepted.length - from.accepted,
          publishP99Ms: percentile(load.latencies.slice(from.latencies), 99),
          rssAtStartMb: samples[from.samples]?.rssMb ?? 0,
          peakCgroupMb: Math.max(...samples.slice(from.samples).map((s) => s.cgroupMb)),
          limitHits: cg.limitHits(),
          exits: exits.length - from.exits,
        };
        log(`phase 1 (limit known at start): ${JSON.stringify(squeeze)}`);
        cg.limit(-1);
        planned = true;
        await (gw as TramlineProcess | null)?.stop(10_000);
        for (let i = 0; i < 1200 && !isUp(); i++) await sleep(100);
      }
      // Phase 2: a gateway that does not know its limit (started without one, then limited in place, as when a limit
      // is lowered or hidden from node): its heap grows with garbage until the OOM killer ends it.
      const killPhaseAt = Date.now();
      const exitsBefore = exits.length;
      let tight = rssOf((gw as TramlineProcess | null)?.pid ?? 0) + 16 * MIB;
      for (;;) {
        try {
          cg.limit(tight);
          break;
        } catch {
          tight += 8 * MIB; // v1 refuses a limit it cannot reclaim down to
        }
      }
      liftLimitOnExit = true;
      log(`phase 2: limit ${mb(tight)} MB on a gateway started without one`);
      let acceptedAtRestart = 0;
      let seenExits = exitsBefore;
      for (;;) {
        await sleep(250);
        if (exits.length > seenExits && isUp()) {
          seenExits = exits.length;
          acceptedAtRestart = load.accepted.length;
        }
        const enough = seenExits > exitsBefore && load.accepted.length - acceptedAtRestart >= p.after;
        if (enough || Date.now() - killPhaseAt >= p.killMaxMs) break;
      }
      const loadMs = Date.now() - loadStarted;
      load.stop();
      await load.done.catch((err: Error) => log(`load: ${err.message}`));
      // A gateway killed near the end of the load is delivered from once its supervisor has it back.
      for (let i = 0; i < 1200 && !isUp(); i++) await sleep(100);
      // The embedded database lives inside the gateway process: delivery states are not read from outside.
      const c = await conserve(rx, load, { query: async () => [] } as never, 180_000);
      sampling = false;
      await sampler;
      const figures = {
        conservation: c,
        cgroupVersion: cg.version,
        limitMb: { phase1: p.squeezeMs > 0 ? mb(limit) : null, phase2: mb(tight) },
        phase1: squeeze,
        restRssMb: mb(restRss),
        // Under a limit only (the first start, initdb, peaks far higher: see restRssMb and README).
        peakUnderTheLimitMb: {
          rss: Math.max(...samples.slice(phase1From).map((s) => s.rssMb)),
          cgroup: Math.max(...samples.slice(phase1From).map((s) => s.cgroupMb)),
        },
        firstStartPeakMb: Math.max(...samples.slice(0, phase1From).map((s) => s.rssMb)),
        limitHits: cg.limitHits(),
        oomKills: cg.oomKills(),
        exits,
        backInMs,
        loadMs,
        largePayloads: load.accepted.length / 2,
        answers: load.answers,
        publishP99Ms: percentile(load.latencies, 99),
        memoryOverTime: samples.filter((_, i) => i % 4 === 0).map((s) => `${(s.atMs / 1000).toFixed(0)}s ${s.cgroupMb}/${s.rssMb}`),
      };
      const unexpected = Object.keys(load.answers).filter((k) => !['202', '200', '503', 'no answer'].includes(k));
      const unexplained = exits.filter((e) => !e.planned && e.signal !== 'SIGKILL' && !e.heapExhausted);
      const kills = exits.filter((e) => !e.planned).length;
      return {
        figures,
        checks: [
          ...conservationChecks(c, rx),
          [`answers other than 202, 200 (a replay), 503 and none (a restart): ${unexpected.join(', ')}`, unexpected.length === 0],
          [
            `${load.unavailableWithoutRetryAfter} answers 503 without Retry-After: ${JSON.stringify(load.unavailableWithoutRetryAfterBodies)}`,
            load.unavailableWithoutRetryAfter === 0,
          ],
          [`exits other than the OOM killer's or a full heap: ${JSON.stringify(unexplained)}`, unexplained.length === 0],
          [`the gateway was ended by the OOM killer (or a full heap) in phase 2 and came back: ${kills} times`, kills > 0],
          [`every exit was followed by a restart (${exits.length} exits, ${backInMs.length} restarts)`, backInMs.length === exits.length],
          [`the gateway is up at the end`, isUp()],
        ],
      };
    } finally {
      stopping = true;
      sampling = false;
      await (gw as TramlineProcess | null)?.stop(5_000);
      await supervisor;
      await rx.close();
      // A gateway the supervisor was starting as the run ended: the group can only go once it is empty.
      for (const pid of cg.pids()) process.kill(pid, 'SIGKILL');
      for (let i = 0; i < 50 && cg.pids().length; i++) await sleep(100);
      cg.remove();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  },
};
