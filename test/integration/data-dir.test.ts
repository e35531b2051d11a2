import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { loadMasterKeys } from '../../src/boot/master-key.ts';
import { ensureOperatorToken } from '../../src/boot/operator-token.ts';
import { DataDirPermissionsError } from '../../src/store/data-dir.ts';
import { openStore } from '../../src/store/open.ts';
import { engine } from '../helpers/db.ts';

/** Every folder and file under `dir` whose mode gives other users anything. */
function openToOthers(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    const st = fs.lstatSync(p);
    if (st.isSymbolicLink()) return;
    if ((st.mode & 0o077) !== 0) out.push(`${path.relative(dir, p) || '.'} ${(st.mode & 0o777).toString(8)}`);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
  };
  walk(dir);
  return out;
}

// The embedded database's files only exist with PGlite; a Postgres server keeps its own.
describe.skipIf(engine() !== 'pglite')('the embedded data folder', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-datadir-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('is the owner’s alone (folders 0700, files 0600) even when started under umask 022', async () => {
    const dataDir = path.join(tmp, 'fresh');
    const previous = process.umask(0o022);
    try {
      const config = loadConfig({ TRAMLINE_DATA_DIR: dataDir });
      loadMasterKeys(config);
      ensureOperatorToken(dataDir);
      const { db, release } = await openStore(config);
      // Files the database creates after start (a new table's relation files, WAL) follow the same rule.
      await db.owner((q) =>
        q.exec(
          'CREATE TABLE later (id int PRIMARY KEY, v text); INSERT INTO later SELECT g, repeat($$x$$, 100) FROM generate_series(1, 5000) g; CHECKPOINT',
        ),
      );
      await db.close();
      release();
    } finally {
      process.umask(previous);
    }
    expect(fs.readdirSync(path.join(dataDir, 'pgdata')).length).toBeGreaterThan(5);
    expect(openToOthers(dataDir)).toEqual([]);
  }, 180_000); // a first start runs initdb: seconds alone, a minute on a loaded two-core machine

  it('refuses a folder other users can enter, naming the command that fixes it', async () => {
    const dataDir = path.join(tmp, 'shared');
    fs.mkdirSync(dataDir, { mode: 0o755 });
    fs.chmodSync(dataDir, 0o755);
    const config = loadConfig({ TRAMLINE_DATA_DIR: dataDir });
    const opening = openStore(config);
    await expect(opening).rejects.toBeInstanceOf(DataDirPermissionsError);
    await expect(opening).rejects.toThrow(`chmod -R go-rwx '${dataDir}'`);
    expect(fs.existsSync(path.join(dataDir, 'pgdata'))).toBe(false);
  });
});
