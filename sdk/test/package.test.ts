import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The package as it would be published: tsc builds dist/ (ESM + .d.ts) with the SDK's own tsconfig
 * (DOM and ES2022 libraries, no Node types: it must compile for browsers too), the output imports
 * nothing but its own files (zero runtime dependencies), and plain Node (no TypeScript loader) runs it.
 */
const SDK = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-sdk-dist-'));
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

const tsc = [path.join(SDK, 'node_modules/typescript/bin/tsc'), path.join(SDK, '../node_modules/typescript/bin/tsc')].find((p) => fs.existsSync(p))!;
const files = (dir: string): string[] =>
  fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)]));

describe('@tramline/sdk package', () => {
  it('builds to ESM + declarations with no runtime dependency, runs in plain Node, and reports its size', () => {
    execFileSync(process.execPath, [tsc, '-p', path.join(SDK, 'tsconfig.json'), '--outDir', out], { stdio: 'pipe' });
    const all = files(out);
    const js = all.filter((f) => f.endsWith('.js'));
    expect(js.map((f) => path.relative(out, f))).toContain('index.js');
    expect(all.map((f) => path.relative(out, f))).toContain('index.d.ts');

    for (const f of js) {
      const specifiers = [...fs.readFileSync(f, 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]!);
      for (const s of specifiers) expect(s, `${path.relative(out, f)} imports ${s}`).toMatch(/^\.\.?\//);
    }

    const pkg = JSON.parse(fs.readFileSync(path.join(SDK, 'package.json'), 'utf8')) as { dependencies?: object; version: string; type: string };
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.type).toBe('module');

    const script = `
      const { Tramline, verifyWebhook, signWebhook, SDK_VERSION } = await import(${JSON.stringify(path.join(out, 'index.js'))});
      const t = new Tramline({ apiKey: 'tl_x', baseUrl: 'http://127.0.0.1:1/' });
      const secret = 'whsec_' + Buffer.alloc(24, 1).toString('base64');
      const body = '{"type":"a","timestamp":"t","data":1}';
      const ts = Math.floor(Date.now() / 1000);
      const sig = await signWebhook(secret, { id: 'msg_1', timestamp: ts, body });
      const ev = await verifyWebhook(secret, { 'webhook-id': 'msg_1', 'webhook-timestamp': String(ts), 'webhook-signature': sig }, body);
      console.log(JSON.stringify({ version: SDK_VERSION, baseUrl: t.baseUrl, data: ev.data, resources: Object.keys(t).sort() }));`;
    const ran = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as Record<string, unknown>;
    expect(ran).toEqual({
      version: pkg.version,
      baseUrl: 'http://127.0.0.1:1',
      data: 1,
      resources: ['apiKeys', 'auditLog', 'baseUrl', 'consumers', 'endpoints', 'eventTypes', 'messages', 'portalSessions', 'tenants'],
    });

    const code = js.map((f) => fs.readFileSync(f));
    const bytes = code.reduce((n, b) => n + b.length, 0);
    const gzip = gzipSync(Buffer.concat(code), { level: 9 }).length;
    const dts = all.filter((f) => f.endsWith('.d.ts')).reduce((n, f) => n + fs.statSync(f).size, 0);
    console.log(`@tramline/sdk ${pkg.version}: ${js.length} .js files, ${bytes} bytes (${gzip} bytes gzipped); .d.ts ${dts} bytes`);
    // A client should stay small: a budget that a new dependency or a bundled copy of something would break.
    expect(gzip).toBeLessThan(12_000);
  });
});
