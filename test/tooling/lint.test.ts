import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `npm test` runs `npm run lint` (Biome's format and lint check, then dependency-cruiser's layer rules) before
 * the type check and the tests. Here, in a temporary copy of src/ with the real configuration: once formatted
 * (what `npm run format` does), the check passes; then each planted violation alone makes it fail.
 */
const root = path.resolve(import.meta.dirname, '../..');
const run = promisify(execFile);
let dir: string;

async function lint(): Promise<{ ok: boolean; output: string }> {
  try {
    const r = await run('npm', ['run', '--silent', 'lint'], { cwd: dir, maxBuffer: 64 * 1024 * 1024 });
    return { ok: true, output: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** Writes `files` into the copy, runs the check, then removes or restores them. */
async function lintWith(files: Record<string, string>): Promise<{ ok: boolean; output: string }> {
  const saved = new Map<string, string | null>();
  for (const [file, text] of Object.entries(files)) {
    const p = path.join(dir, file);
    saved.set(p, fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : null);
    fs.writeFileSync(p, text);
  }
  try {
    return await lint();
  } finally {
    for (const [p, text] of saved) {
      if (text === null) fs.rmSync(p);
      else fs.writeFileSync(p, text);
    }
  }
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-lint-'));
  fs.cpSync(path.join(root, 'src'), path.join(dir, 'src'), { recursive: true });
  for (const f of ['package.json', 'tsconfig.json', 'biome.json', '.dependency-cruiser.cjs', '.gitignore'])
    fs.copyFileSync(path.join(root, f), path.join(dir, f));
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  // Biome reads .gitignore through git (vcs.useIgnoreFile): the copy is a repository of its own.
  await run('git', ['init', '-q'], { cwd: dir });
  await run('npm', ['run', '--silent', 'format'], { cwd: dir, maxBuffer: 64 * 1024 * 1024 });
}, 300_000);

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('npm run lint', () => {
  it('is run by npm test before the type check and the tests', () => {
    const scripts = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.test).toMatch(/^npm run lint && npm run typecheck && vitest run/);
    expect(scripts.lint).toContain('biome check');
    expect(scripts.lint).toContain('depcruise');
  });

  it('passes on the formatted tree', async () => {
    const r = await lint();
    expect(r.output).not.toMatch(/×|error/);
    expect(r.ok).toBe(true);
  });

  it('fails on a formatting error', async () => {
    const file = 'src/errors.ts';
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    const r = await lintWith({
      [file]: text.replace('export type ErrorCode = keyof typeof ERRORS;', 'export type ErrorCode=keyof typeof ERRORS'),
    });
    expect(r.ok).toBe(false);
    expect(r.output).toMatch(/format/i);
  });

  it('fails on a lint error', async () => {
    const r = await lintWith({ 'src/domain/planted.ts': 'export function same(a: unknown, b: unknown): boolean {\n  return a == b;\n}\n' });
    expect(r.ok).toBe(false);
    expect(r.output).toContain('noDoubleEquals');
  });

  it('fails on an upward import (store → api)', async () => {
    const r = await lintWith({ 'src/store/planted.ts': "import { buildApp } from '../api/app.ts';\n\nexport const planted = buildApp;\n" });
    expect(r.ok).toBe(false);
    expect(r.output).toContain('store-is-the-bottom');
  });

  it('fails on an import cycle', async () => {
    const r = await lintWith({
      'src/domain/planted-a.ts': "import { b } from './planted-b.ts';\n\nexport const a = (): number => b() + 1;\n",
      'src/domain/planted-b.ts': "import { a } from './planted-a.ts';\n\nexport const b = (): number => a() - 1;\n",
    });
    expect(r.ok).toBe(false);
    expect(r.output).toContain('no-cycles');
  });
});
