import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { engine } from '../helpers/db.ts';
import { BIN, ROOT, freePort, killAll, printChildOutputOnFailure, spawnTramline } from '../helpers/process.ts';

printChildOutputOnFailure();
afterAll(killAll);

/**
 * The README's walkthrough, run as written against a real `tramline start` on the embedded
 * database. Only the port numbers, the data folder and the path of bin/ are substituted, so
 * the test neither collides with a gateway a developer is running nor drifts from the README.
 */
// The walkthrough is the embedded quick start: it reads the operator token from the data folder,
// which only the PGlite default writes, so it runs in the PGlite project only.
describe.runIf(engine() === 'pglite')('README walkthrough', () => {
  it('goes from tenant to a delivered, verified webhook when pasted as written', async () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const block = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes('field()'));
    expect(block, 'the walkthrough block').toBeDefined();
    const start = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.trim()).find((b) => b.endsWith('npm start') && b.includes('TRAMLINE_EGRESS_ALLOW'));
    expect(start, 'the start command').toBe('TRAMLINE_EGRESS_ALLOW=127.0.0.0/8,::1/128 npm start');

    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-readme-'));
    const [apiPort, rxPort] = [await freePort(), await freePort()];
    const gateway = spawnTramline(['start'], { TRAMLINE_DATA_DIR: dataDir, PORT: String(apiPort), HOST: '127.0.0.1', TRAMLINE_EGRESS_ALLOW: '127.0.0.0/8,::1/128', LOG_LEVEL: 'warn' });
    try {
      await gateway.waitForReady(`http://127.0.0.1:${apiPort}`, 60_000);
      const script = block!
        .replaceAll('http://localhost:8080', `http://127.0.0.1:${apiPort}`)
        .replaceAll('.tramline/operator-token', path.join(dataDir, 'operator-token'))
        .replaceAll('4000', String(rxPort))
        .replaceAll('./bin/tramline.js', BIN);
      const { stdout } = await promisify(execFile)('bash', ['-c', script], { cwd: ROOT, timeout: 60_000, env: { PATH: process.env.PATH, HOME: process.env.HOME } });
      expect(stdout).toContain('signature ok');
      expect(stdout).toContain('"eventId":"inv_1001.paid"');
      expect(stdout).toMatch(/"state":"succeeded"/);
      expect(stdout).toMatch(/"outcome":"succeeded","statusCode":204/);
    } finally {
      await gateway.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
