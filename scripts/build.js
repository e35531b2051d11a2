#!/usr/bin/env node
// The build: src/ compiled by tsc to dist/ (tsconfig.build.json), and the web app built by Vite to dist/web/
// when web/vite.config.ts exists. Plain JavaScript on Node's built-ins only, so it runs before anything is built.
//
//   node scripts/build.js             build now (`npm run build`)
//   node scripts/build.js --if-stale  build only when dist/ is missing or older than its sources (`npm start`)
//
// "Stale" is decided by a fingerprint of the inputs (every file's path, size and mtime under src/ and web/,
// plus the tsconfigs, the lockfile and this script), kept in dist/.build-stamp.json: a few milliseconds of
// stat calls, no hashing of contents. A deleted or renamed file changes the fingerprint as well.
//
// The output is built into dist.next/ and swapped in with two renames, under a lock (dist.lock), so two
// processes that find dist/ stale at once (two test projects, a few CLI commands) build it once, and a
// process already running from dist/ keeps its files until the swap.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const STAMP = '.build-stamp.json';
const INPUT_DIRS = ['src', 'sdk/src', 'web'];
const INPUT_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json', 'scripts/build.js'];
const SKIP = new Set(['node_modules', 'dist', '.vite', 'coverage']);
const LOCK_WAIT_MS = 10 * 60_000;

export const defaultRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** A digest of the build's inputs: relative path, size and mtime of each file. */
export function fingerprint(root = defaultRoot) {
  const lines = [];
  const walk = (rel) => {
    let entries;
    try {
      entries = fs.readdirSync(path.join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (SKIP.has(e.name) || e.name.startsWith('.')) continue;
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(r);
      else if (e.isFile()) stamp(r);
    }
  };
  const stamp = (rel) => {
    try {
      const s = fs.statSync(path.join(root, rel));
      lines.push(`${rel}\t${s.size}\t${Math.trunc(s.mtimeMs)}`);
    } catch {
      /* absent input: absent from the digest */
    }
  };
  for (const d of INPUT_DIRS) walk(d);
  for (const f of INPUT_FILES) stamp(f);
  lines.sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

/** Why dist/ must be (re)built, or null when it is up to date. */
export function staleReason(root = defaultRoot) {
  let stamp;
  try {
    stamp = JSON.parse(fs.readFileSync(path.join(root, 'dist', STAMP), 'utf8'));
  } catch {
    return fs.existsSync(path.join(root, 'dist', 'src', 'cli', 'main.js')) ? 'dist/ has no build stamp' : 'dist/ is missing';
  }
  if (stamp.fingerprint !== fingerprint(root)) return 'the sources changed since the last build';
  const hasWeb = fs.existsSync(path.join(root, 'web', 'vite.config.ts'));
  if (hasWeb !== Boolean(stamp.web)) return hasWeb ? 'the web app appeared' : 'the web app is gone';
  return null;
}

/** Builds into dist.next/ and swaps it in. Throws (with the tool's output already printed) when a step fails. */
export function build(root = defaultRoot, log = (m) => process.stderr.write(`${m}\n`)) {
  const started = Date.now();
  const next = path.join(root, `dist.next-${process.pid}`);
  fs.rmSync(next, { recursive: true, force: true });
  // The fingerprint is taken before compiling: a file edited during the build makes the next check rebuild.
  const digest = fingerprint(root);

  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!fs.existsSync(tsc)) throw new Error('typescript is not installed (run `npm ci`); dist/ cannot be built');
  run(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', next], root, 'tsc');

  const hasWeb = fs.existsSync(path.join(root, 'web', 'vite.config.ts'));
  if (hasWeb) {
    const web = path.join(root, 'web');
    const vite = [path.join(web, 'node_modules', 'vite', 'bin', 'vite.js'), path.join(root, 'node_modules', 'vite', 'bin', 'vite.js')].find((p) => fs.existsSync(p));
    if (!vite) throw new Error('web/vite.config.ts exists but vite is not installed (run `npm ci`)');
    // cwd web/: Vite's root defaults to the folder of the config; the output goes beside the compiled server.
    // The folder goes through TRAMLINE_WEB_OUT, not --outDir: the config makes three builds (app/, portal/,
    // embed.js) below it, and --outDir would put the dashboard at the top and the other two in the old dist/.
    run(process.execPath, [vite, 'build', '--config', path.join(web, 'vite.config.ts'), '--logLevel', 'warn'], web, 'vite build', {
      TRAMLINE_WEB_OUT: path.join(next, 'web'),
    });
  }

  fs.writeFileSync(path.join(next, STAMP), `${JSON.stringify({ fingerprint: digest, web: hasWeb, builtAt: new Date().toISOString() }, null, 2)}\n`);
  const dist = path.join(root, 'dist');
  const old = path.join(root, `dist.old-${process.pid}`);
  if (fs.existsSync(dist)) fs.renameSync(dist, old);
  fs.renameSync(next, dist);
  fs.rmSync(old, { recursive: true, force: true });
  log(`tramline: built dist/${hasWeb ? ' and dist/web/' : ''} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Builds when dist/ is missing or stale, once across concurrent callers. Returns true when it built. */
export function ensureBuilt(root = defaultRoot, log = (m) => process.stderr.write(`${m}\n`)) {
  if (staleReason(root) === null) return false;
  return withLock(root, () => {
    const reason = staleReason(root); // another process may have built it while this one waited
    if (reason === null) return false;
    log(`tramline: building dist/ (${reason})…`);
    build(root, log);
    return true;
  });
}

function run(cmd, args, cwd, what, env = {}) {
  // The tools' stdout goes to stderr: a command that built first (`tramline version`) keeps a clean stdout.
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 2, 2], env: { ...process.env, ...env } });
  if (r.error) throw new Error(`${what} could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${what} failed (exit ${r.status ?? r.signal})`);
}

function withLock(root, fn) {
  const lock = path.join(root, 'dist.lock');
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const holder = Number(readOr(lock, ''));
      if (!holder || !alive(holder)) {
        // Left by a build that died: take it over.
        fs.rmSync(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`dist.lock is held by process ${holder} for too long`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

function readOr(file, fallback) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    if (process.argv.includes('--if-stale')) ensureBuilt();
    else withLock(defaultRoot, () => build());
  } catch (err) {
    process.stderr.write(`tramline: build failed: ${err.message}\n`);
    process.exit(1);
  }
}
