import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// deploy/aws is its own package (aws-cdk-lib is hundreds of MB, kept out of the root `npm ci`).
// CI installs it (`npm ci --prefix deploy/aws` in .ci/run) and this runs its tests: type-check,
// CDK assertions on every region's template, and an offline `cdk synth`.
const root = path.resolve(import.meta.dirname, '../..');
const installed = existsSync(path.join(root, 'deploy/aws/node_modules/aws-cdk-lib'));

describe('deploy/aws (AWS CDK)', () => {
  if (!installed) {
    console.log('SKIPPED: deploy/aws tests: its dependencies are not installed (npm ci --prefix deploy/aws)');
    // Skipped only when deploy/aws's own dependencies are not installed (a plain `npm ci && npm test` at the
    // root); the line above says so, and .ci/run installs them and fails on any SKIPPED line.
    it.skip('npm test --prefix deploy/aws', () => {});
    return;
  }

  it('npm test --prefix deploy/aws passes', async () => {
    const { stdout } = await promisify(execFile)('npm', ['test', '--prefix', 'deploy/aws'], {
      cwd: root,
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', NO_COLOR: '1', FORCE_COLOR: '0' },
      maxBuffer: 32 * 1024 * 1024,
      timeout: 590_000,
    }).catch((err: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(`${err.message}\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
    });
    expect(stdout).toMatch(/Tests\s+\d+ passed/);
    expect(stdout).not.toMatch(/failed/);
  });
});
