import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { openPglite } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    chromiumPath: string | null;
  }
}

const root = path.resolve(import.meta.dirname, '../..');

function newest(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

/**
 * Browser end-to-end suite: needs Chromium (CHROMIUM_PATH or /usr/bin/chromium) — without it, one SKIPPED
 * line and every test skips. Builds the web app once when web/ is newer than dist/web, and migrates the
 * PGlite template each test file's gateway starts from.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-e2e-'));
  project.provide('pgliteTemplate', '');
  project.provide('postgresTemplate', null);
  if (!fs.existsSync(chromium)) {
    console.log(`SKIPPED: browser end-to-end tests (no Chromium at ${chromium}; set CHROMIUM_PATH or apt-get install chromium)`);
    project.provide('chromiumPath', null);
    return () => fs.rmSync(dir, { recursive: true, force: true });
  }
  project.provide('chromiumPath', chromium);

  const built = path.join(root, 'dist/web/app/index.html');
  const stale =
    !fs.existsSync(built) ||
    !fs.existsSync(path.join(root, 'dist/web/embed.js')) ||
    newest(path.join(root, 'web')) > fs.statSync(built).mtimeMs;
  if (stale) {
    // A production build, as `npm run build:web` makes it: vitest sets NODE_ENV=test, which would bundle
    // React's development build (twice the size, slower).
    const { build } = await import('vite');
    const env = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await build({ configFile: path.join(root, 'web/vite.config.ts'), mode: 'production', logLevel: 'warn' });
    } finally {
      process.env.NODE_ENV = env;
    }
  }

  const lite = await openPglite({ dataDir: 'memory://' });
  await migrate(lite);
  const dump = await lite.pglite.dumpDataDir('none');
  await lite.close();
  const template = path.join(dir, 'pglite-template.tar');
  fs.writeFileSync(template, Buffer.from(await dump.arrayBuffer()));
  project.provide('pgliteTemplate', template);
  return () => fs.rmSync(dir, { recursive: true, force: true });
}
