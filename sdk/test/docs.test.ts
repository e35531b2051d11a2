import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATOR_TOKEN, startTestGateway, type TestGateway } from '../../test/helpers/gateway.ts';
import { freePort } from '../../test/helpers/process.ts';

/**
 * docs/sdk.md's walkthrough, run as written (through tsx, as the page says) against a real gateway: only
 * the receiver's port and the package name (→ sdk/src) are substituted, so the page cannot drift from the SDK.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let gw: TestGateway;
let dir: string;

beforeAll(async () => {
  gw = await startTestGateway();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-sdk-doc-'));
});
afterAll(async () => {
  await gw?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('docs/sdk.md', () => {
  it('the SDK walkthrough goes from tenant to a verified webhook', async () => {
    const page = fs.readFileSync(path.join(ROOT, 'docs/sdk.md'), 'utf8');
    const block = [...page.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes('// 1. A tenant'));
    expect(block, 'the walkthrough block').toBeDefined();
    const port = await freePort();
    // .mts: an ES module wherever the temporary folder is (a package.json above it may say otherwise).
    const file = path.join(dir, 'walkthrough.mts');
    fs.writeFileSync(file, block!.replaceAll("'@tramline/sdk'", JSON.stringify(path.join(ROOT, 'sdk/src/index.ts'))).replaceAll('4000', String(port)));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', file], {
      cwd: ROOT,
      timeout: 100_000,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TRAMLINE_URL: gw.url, TRAMLINE_OPERATOR_TOKEN: OPERATOR_TOKEN },
    });
    expect(stdout).toMatch(/^consumer con_/m);
    const id = /^published (msg_\S+)$/m.exec(stdout)?.[1];
    expect(id).toBeDefined();
    expect(stdout).toContain(`signature ok ${id} {"invoice":"inv_1001","amount":4200}`);
    expect(stdout).toMatch(/^deliveries \[\{"endpoint":"ep_[^"]+","state":"(sending|succeeded)"\}\]$/m);
  });
});
