import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { engine } from '../helpers/db.ts';
import { ROOT, freePort, waitUntil } from '../helpers/process.ts';

const run = promisify(execFile);
const clones: string[] = [];
const groups: number[] = [];
afterAll(() => {
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }
  for (const d of clones) fs.rmSync(d, { recursive: true, force: true });
});

const shBlocks = (md: string): string[] => [...md.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);

/**
 * The README's tour, from a fresh clone of this repository, as a new user runs it: `npm run dev &`,
 * then the tour block pasted as written, with nothing exported but PORT (a free one, as a user whose
 * 8080 is taken would export) — no TRAMLINE_* variable, no token, no key. Only the receiver's port
 * 4000 is replaced by a free one. `npm ci` is replaced by a link to this checkout's node_modules.
 */
describe.runIf(engine() === 'pglite')('README quick start from a fresh clone', () => {
  it('gets a verified delivery with tramline dev + tramline listen + tramline trigger', async () => {
    const started = Date.now();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-clone-'));
    clones.push(dir);
    await run('git', ['clone', '--quiet', ROOT, dir]);
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));

    const readme = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
    expect(readme).toContain('npm ci && npm start');
    const blocks = shBlocks(readme);
    expect(blocks.map((b) => b.trim())).toContain('npm run dev &');
    const tour = blocks.find((b) => b.includes('trigger invoice.paid'));
    expect(tour, 'the tour block').toBeDefined();
    expect(tour).toContain('set -euo pipefail');

    const [port, rxPort] = [await freePort(), await freePort()];
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port) };
    let devOut = '';
    const dev = spawn('bash', ['-c', 'npm run dev'], { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    groups.push(dev.pid!);
    dev.stdout.on('data', (c: Buffer) => (devOut += c.toString()));
    dev.stderr.on('data', (c: Buffer) => (devOut += c.toString()));
    try {
      // The tour waits up to 120 s for readiness itself; on a loaded CI machine the first build and the embedded
      // database's first start can take longer, so wait for the banner a user reads before pasting the block.
      await waitUntil(() => devOut.includes('/docs') || dev.exitCode !== null, 240_000, 'tramline dev banner').catch((err: Error) => {
        throw new Error(`${err.message}\n--- tramline dev\n${devOut}`);
      });
      const { stdout, stderr } = await run('bash', ['-c', tour!.replaceAll('4000', String(rxPort))], {
        cwd: dir,
        env,
        timeout: 240_000,
      }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(
          `the tour failed: ${err.message}\n--- stdout\n${err.stdout}\n--- stderr\n${err.stderr}\n--- tramline dev\n${devOut}`,
        );
      });
      const seconds = (Date.now() - started) / 1000;
      console.log(`clone → verified delivery: ${seconds.toFixed(1)} s`);
      expect(stdout, stderr).toContain('signature ok');
      expect(stdout).toMatch(/ep_\w+: succeeded \(204\), 1 attempt/);
      expect(devOut).toContain(`API             http://127.0.0.1:${port}`);
      expect(devOut).toContain(`http://127.0.0.1:${port}/docs`);
      expect(devOut).toContain('operator-token');
      // The receiver removed its temporary endpoint when the tour's subshell stopped it; the record is there while dev runs.
      expect(fs.existsSync(path.join(dir, '.tramline', 'gateway.json'))).toBe(true);
    } finally {
      process.kill(-dev.pid!, 'SIGTERM');
      await new Promise((r) => dev.once('exit', r));
    }
    // bash and npm exit at once; the gateway drains, then removes its record as it exits.
    await waitUntil(() => !fs.existsSync(path.join(dir, '.tramline', 'gateway.json')), 60_000, 'gateway.json removed on stop');
  }, 480_000);
});
