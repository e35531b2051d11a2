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
 * The API guide's curl walkthrough (docs/api-guide.md), run as written against a real `tramline dev`
 * on the embedded database. PORT is set, and only the receiver's port, the data folder and the path of
 * bin/ are substituted, so the test neither collides with a gateway a developer is running nor drifts
 * from the page. (The README's own tour is run from a fresh clone by quick-start.test.ts.)
 */
// The walkthrough is the embedded quick start: it reads the operator token from the data folder,
// which only the PGlite default writes, so it runs in the PGlite project only.
describe.runIf(engine() === 'pglite')('API guide walkthrough', () => {
  it('goes from tenant to a delivered, verified webhook when pasted as written', async () => {
    const readme = fs.readFileSync(path.join(ROOT, 'docs', 'api-guide.md'), 'utf8');
    const block = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes('field()'));
    expect(block, 'the walkthrough block').toBeDefined();
    const start = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.trim()).find((b) => b.includes('npm run dev'));
    expect(start, 'the start command').toBe('npm run dev &');

    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-readme-'));
    const [apiPort, rxPort] = [await freePort(), await freePort()];
    const gateway = spawnTramline(['dev'], { TRAMLINE_DATA_DIR: dataDir, PORT: String(apiPort) });
    try {
      await gateway.waitForReady(`http://127.0.0.1:${apiPort}`, 180_000);
      const script = block!
        .replaceAll('.tramline/operator-token', path.join(dataDir, 'operator-token'))
        .replaceAll('4000', String(rxPort))
        .replaceAll('./bin/tramline.js', BIN);
      const { stdout } = await promisify(execFile)('bash', ['-c', script], {
        cwd: ROOT,
        timeout: 120_000,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(apiPort) },
      });
      expect(stdout).toContain('signature ok');
      expect(stdout).toContain('"eventId":"inv_1001.paid"');
      expect(stdout).toMatch(/"state":"succeeded"/);
      expect(stdout).toMatch(/"outcome":"succeeded","statusCode":204/);
    } finally {
      await gateway.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 300_000); // a first start initialises PGlite: seconds alone, a minute or more on a loaded machine
});
