import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NotFoundError, type BackupStorage } from '../storage.ts';

/** Backups in a local (or mounted) folder. Each file is written beside its name and renamed into place. */
export function folderStorage(root: string): BackupStorage {
  const abs = path.resolve(root);
  const file = (key: string): string => path.join(abs, ...key.split('/'));
  return {
    location: abs,
    async put(key, body) {
      const dest = file(key);
      await fs.promises.mkdir(path.dirname(dest), { recursive: true });
      const tmp = `${dest}.${randomBytes(4).toString('hex')}.partial`;
      try {
        await pipeline(body, fs.createWriteStream(tmp, { flags: 'wx' }));
        await fs.promises.rename(tmp, dest);
      } catch (err) {
        await fs.promises.rm(tmp, { force: true });
        throw err;
      }
    },
    async get(key) {
      const p = file(key);
      try {
        await fs.promises.access(p, fs.constants.R_OK);
      } catch {
        throw new NotFoundError(`${p} does not exist`);
      }
      return fs.createReadStream(p) as Readable;
    },
    async exists(key) {
      return fs.existsSync(file(key));
    },
    async listFolders() {
      try {
        const entries = await fs.promises.readdir(abs, { withFileTypes: true });
        return entries
          .filter((e) => e.isDirectory())
          .map((e) => e.name)
          .sort();
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
    },
    async removeFolder(folder) {
      await fs.promises.rm(file(folder), { recursive: true, force: true });
    },
    child: (folder) => folderStorage(file(folder)),
  };
}
