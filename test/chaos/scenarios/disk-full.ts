import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, sleep, spawnTramline, type TramlineProcess } from '../../helpers/process.ts';
import { conservationChecks, conserve } from '../lib/conservation.ts';
import { baseEnv } from '../lib/fleet.ts';
import { provision, startLoad, type Load } from '../lib/load.ts';
import { startChaosReceiver } from '../lib/receiver.ts';
import type { Scenario } from '../lib/scenario.ts';

/**
 * (9) Disk pressure on the embedded database: the PGlite data folder on a small tmpfs of its own (mounted here,
 * as root; never the machine's disks), filled up by a file beside it under load. Publishes must then answer 503 with
 * Retry-After (never a 202 that was not stored, never a bare 500), and once the space is back (the file removed) publishing resumes and
 * everything accepted is delivered.
 */
export const diskFull: Scenario = {
  name: 'disk-full',
  guarantees:
    'the embedded database’s filesystem full under load: publishes answer 503 + Retry-After (never 202 without storing), and once space returns publishing resumes, lost 0',
  async run(size, log) {
    const p = size === 'full' ? { fullMs: 20_000 } : { fullMs: 5_000 };
    const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-chaos-disk-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256m', 'tmpfs', mnt]);
    const dataDir = path.join(mnt, 'data');
    const filler = path.join(mnt, 'filler');
    const rx = await startChaosReceiver();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    let gw: TramlineProcess | null = null;
    try {
      const env = baseEnv('', { PORT: String(port), TRAMLINE_DATA_DIR: dataDir, DATABASE_URL: '' });
      delete (env as Record<string, string | undefined>).DATABASE_URL;
      gw = spawnTramline(['start', '--role', 'all'], env, { name: 'gateway' });
      await gw.waitForReady(base, 90_000);
      const targets = await provision(base, rx, { tenants: 1, endpointsPerTenant: 2 });
      const load: Load = startLoad({ apiUrls: [base], targets, messages: 1_000_000, concurrency: 4, rate: 50, giveUpMs: 300_000 });
      await sleep(2_000);
      // Fill the filesystem: what is left after the data folder goes to one file.
      try {
        execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1M', 'count=1024'], { stdio: 'ignore' });
      } catch {
        /* ENOSPC: full, as intended */
      }
      const fullAt = Date.now();
      const acceptedAtFull = load.accepted.length;
      log(`filesystem full (${acceptedAtFull} accepted so far)`);
      await sleep(p.fullMs);
      const acceptedWhileFull = load.accepted.length - acceptedAtFull;
      const answersWhileFull = { ...load.answers };
      fs.rmSync(filler);
      const freedAt = Date.now();
      log('space back');
      await sleep(p.fullMs);
      load.stop();
      await load.done.catch((err: Error) => log(`load: ${err.message}`));
      const resumed = load.accepted.some((a) => a.sentAt > freedAt);
      // The embedded database lives inside the gateway process: delivery states are not read from outside.
      const c = await conserve(rx, load, { query: async () => [] } as never, 120_000);
      const alive = gw.exit === null;
      return {
        figures: {
          conservation: c,
          answers: load.answers,
          answersWhileFull,
          acceptedWhileFull,
          fullForMs: freedAt - fullAt,
          gatewayAlive: alive,
          gatewayExit: gw.exit,
        },
        checks: [
          ...conservationChecks(c, rx),
          [
            `answers other than 202 and 503: ${JSON.stringify(load.answers)}`,
            Object.keys(load.answers).every((k) => k === '202' || k === '503'),
          ],
          ['publishes were answered 503 while the disk was full', (answersWhileFull['503'] ?? 0) > 0],
          [`${load.unavailableWithoutRetryAfter} answers 503 without Retry-After`, load.unavailableWithoutRetryAfter === 0],
          ['publishing resumed once space was back', resumed],
          [`the gateway exited: ${JSON.stringify(gw.exit)}`, alive],
        ],
      };
    } finally {
      await gw?.stop(5_000);
      await rx.close();
      execFileSync('umount', ['-l', mnt]);
      fs.rmSync(mnt, { recursive: true, force: true });
    }
  },
};
