import fs from 'node:fs';

/**
 * The embedded data folder holds the database files (payloads, the catalog, the WAL), the master key
 * and the operator token: it must be this user's alone, whatever umask the process was started with.
 *
 * Decision: like Postgres itself, the process creates everything with umask 077 (folders 0700, files
 * 0600) and refuses to start on a folder that other users can read, write or enter — a folder made
 * under umask 022 by an older version, say — with the command that fixes it, rather than silently
 * changing modes on files it did not create.
 */
export class DataDirPermissionsError extends Error {}

export function secureDataDir(dir: string): void {
  process.umask(0o077);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const mode = fs.statSync(dir).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new DataDirPermissionsError(
      `The data folder ${dir} is open to other users (mode ${mode.toString(8).padStart(4, '0')}); it holds the database, ` +
        `the master key and the operator token, so Tramline will not use it until only its owner can: chmod -R go-rwx '${dir}'`,
    );
  }
}

/**
 * Takes group and other access away from everything under `dir`. PGlite's initdb writes the new
 * database's files with explicit modes (0666) that ignore the umask; files it creates later follow it.
 */
export function restrictTree(dir: string): void {
  const walk = (p: string): void => {
    const st = fs.lstatSync(p);
    if (st.isSymbolicLink()) return;
    if ((st.mode & 0o077) !== 0) fs.chmodSync(p, st.mode & 0o700);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) walk(`${p}/${e}`);
  };
  walk(dir);
}
