import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = path.resolve(import.meta.dirname, '../..');
const load = (f: string) => parse(readFileSync(path.join(root, f), 'utf8'));
const scripts = (pkg: string) => Object.keys(JSON.parse(readFileSync(path.join(root, pkg), 'utf8')).scripts ?? {});

/** What a shell script refers to in the repository: files that must exist, npm scripts that must be defined. */
function checkReferences(script: string, where: string): void {
  for (const m of script.matchAll(/(?:^|[\s"'=])((?:deploy|scripts|bin|\.ci|\.github)\/[\w./-]+)/g)) {
    const p = m[1]!.replace(/[.,;]+$/, '');
    expect(existsSync(path.join(root, p)), `${where}: ${p}`).toBe(true);
  }
  for (const m of script.matchAll(/npm run ([\w:-]+)((?:\s+--[\w-]+(?:\s+[\w/.-]+)?)*)/g)) {
    const [, name, flags = ''] = m;
    if (flags.includes('--if-present')) continue;
    const prefix = /--prefix\s+([\w/.-]+)/.exec(flags)?.[1];
    expect(
      scripts(prefix ? `${prefix}/package.json` : 'package.json'),
      `${where}: npm run ${name}${prefix ? ` --prefix ${prefix}` : ''}`,
    ).toContain(name);
  }
}

const hasShellcheck = (() => {
  try {
    execFileSync('shellcheck', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** shellcheck on each script (pipeline expressions replaced by a plain word first). */
function shellcheck(scriptsByName: [string, string][]): string[] {
  if (!hasShellcheck) {
    console.log('shellcheck is not installed: pipeline scripts not linted');
    return [];
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tramline-sc-'));
  const problems: string[] = [];
  try {
    for (const [name, body] of scriptsByName) {
      const file = path.join(dir, `${name.replace(/\W+/g, '_')}.sh`);
      writeFileSync(file, `#!/usr/bin/env bash\n${body.replace(/\$\{\{[^}]*\}\}/g, 'PIPELINE_VALUE')}\n`);
      try {
        execFileSync('shellcheck', ['-S', 'warning', file], { encoding: 'utf8' });
      } catch (err) {
        problems.push(`${name}:\n${(err as { stdout: string }).stdout}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return problems;
}

interface GhStep {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  id?: string;
}
interface GhJob {
  needs?: string | string[];
  if?: string;
  uses?: string;
  with?: Record<string, unknown>;
  steps?: GhStep[];
  services?: Record<string, { image: string }>;
  permissions?: Record<string, string>;
  environment?: string;
}

describe('GitHub Actions (.github/workflows)', () => {
  const files = ['ci.yml', 'release.yml', 'deploy.yml'].map((f) => [f, load(`.github/workflows/${f}`)] as const);
  const wf = Object.fromEntries(files) as Record<
    string,
    { on: Record<string, unknown>; jobs: Record<string, GhJob>; permissions: Record<string, string> }
  >;
  const needs = (j: GhJob) => (j.needs === undefined ? [] : Array.isArray(j.needs) ? j.needs : [j.needs]);

  it('least privilege by default; every job’s needs exist and form no cycle', () => {
    for (const [f, w] of files) {
      expect(w.permissions, f).toEqual(f === 'deploy.yml' ? { contents: 'read', 'id-token': 'write' } : { contents: 'read' });
      const jobs = w.jobs as Record<string, GhJob>;
      for (const [name, j] of Object.entries(jobs))
        for (const n of needs(j)) expect(Object.keys(jobs), `${f} ${name} needs ${n}`).toContain(n);
      const seen = new Set<string>();
      const visit = (n: string, stack: string[]): void => {
        expect(stack, `${f}: cycle through ${n}`).not.toContain(n);
        if (seen.has(n)) return;
        seen.add(n);
        for (const m of needs(jobs[n]!)) visit(m, [...stack, n]);
      };
      for (const n of Object.keys(jobs)) visit(n, []);
    }
  });

  it('ci: lint, type-check and the tests (with Postgres and Redis services) gate the image', () => {
    const { jobs } = wf['ci.yml']!;
    expect(Object.keys(jobs)).toEqual(expect.arrayContaining(['lint', 'typecheck', 'test', 'image', 'deploy-staging']));
    expect(needs(jobs.image!).sort()).toEqual(['lint', 'test', 'typecheck']);
    expect(jobs.test!.services!.postgres!.image).toMatch(/^postgres:1[5-9]/);
    expect(jobs.test!.services!.redis!.image).toMatch(/^redis:/);
    const runs = jobs.test!.steps!.map((s) => s.run ?? '').join('\n');
    expect(runs).toContain('npm ci --no-audit --no-fund --prefix deploy/aws');
    expect(runs).toMatch(/npm test/);
    expect(runs).toContain('SKIPPED:');
    expect(jobs.lint!.steps!.map((s) => s.run ?? '').join('\n')).toMatch(/npm run lint/);
    expect(jobs.typecheck!.steps!.map((s) => s.run ?? '').join('\n')).toMatch(/npm run typecheck/);
  });

  it('ci: the image is scanned (Trivy, failing on HIGH/CRITICAL) before it is pushed, and pushed only from a push', () => {
    const steps = wf['ci.yml']!.jobs.image!.steps!;
    const scan = steps.findIndex((s) => s.uses?.startsWith('aquasecurity/trivy-action'));
    const push = steps.findIndex((s) => s.with?.push === true);
    expect(scan).toBeGreaterThan(0);
    expect(push).toBeGreaterThan(scan);
    expect(steps[scan]!.with).toMatchObject({ 'exit-code': '1', severity: 'HIGH,CRITICAL' });
    expect(steps[push]!.if).toBe("github.event_name == 'push'");
  });

  it('rc/* branches deploy to staging automatically; a v* tag promotes the same image to production', () => {
    const staging = wf['ci.yml']!.jobs['deploy-staging']!;
    expect(staging.if).toContain("startsWith(github.ref, 'refs/heads/rc/')");
    expect(staging.uses).toBe('./.github/workflows/deploy.yml');
    expect(staging.with).toMatchObject({ environment: 'staging' });
    expect(String(staging.with!.image)).toMatch(/@\$\{\{ needs\.image\.outputs\.digest \}\}$/);
    expect((wf['ci.yml']!.on.push as { branches: string[] }).branches).toContain('rc/**');

    const release = wf['release.yml']!;
    expect((release.on.push as { tags: string[] }).tags).toEqual(['v*']);
    expect(needs(release.jobs['deploy-production']!)).toEqual(['promote']);
    expect(release.jobs['deploy-production']!.with).toMatchObject({ environment: 'production' });
    // Promotion retags the commit's scanned image; nothing is built in the release.
    const promote = release.jobs.promote!.steps!.map((s) => `${s.uses ?? ''} ${s.run ?? ''}`).join('\n');
    expect(promote).toContain('imagetools create');
    expect(promote).not.toMatch(/build-push-action|docker build\s|buildx build/);
  });

  it('deploy: reusable, assumes the deploy role through OIDC, runs migrations then the rollout (rollout.sh)', () => {
    const d = wf['deploy.yml']!;
    const inputs = (d.on.workflow_call as { inputs: Record<string, { required?: boolean }> }).inputs;
    for (const [f, w] of files) {
      for (const [name, j] of Object.entries(w.jobs as Record<string, GhJob>)) {
        if (!j.uses?.startsWith('./')) continue;
        expect(existsSync(path.join(root, j.uses)), `${f} ${name}`).toBe(true);
        expect(Object.keys(inputs)).toEqual(expect.arrayContaining(Object.keys(j.with ?? {})));
        for (const [k, v] of Object.entries(inputs))
          if (v.required) expect(Object.keys(j.with ?? {}), `${f} ${name}: input ${k}`).toContain(k);
        expect(j.permissions?.['id-token'], `${f} ${name}`).toBe('write');
      }
    }
    const steps = d.jobs.rollout!.steps!;
    expect(steps.some((s) => s.uses?.startsWith('aws-actions/configure-aws-credentials'))).toBe(true);
    expect(steps.at(-1)!.run).toContain('deploy/k8s/rollout.sh');
    expect(d.jobs.rollout!.environment).toBe('${{ inputs.environment }}');
  });

  it('third-party actions are pinned to a release, never a branch', () => {
    for (const [f, w] of files) {
      for (const j of Object.values(w.jobs as Record<string, GhJob>)) {
        for (const s of j.steps ?? []) {
          if (!s.uses || s.uses.startsWith('./')) continue;
          expect(s.uses, f).toMatch(/@(v\d+(\.\d+)*|\d+\.\d+\.\d+|[0-9a-f]{40})$/);
        }
      }
    }
  });

  it('every script they run refers to files and npm scripts that exist, and passes shellcheck', () => {
    const all: [string, string][] = [];
    for (const [f, w] of files) {
      for (const [name, j] of Object.entries(w.jobs as Record<string, GhJob>)) {
        (j.steps ?? []).forEach((s, i) => {
          if (!s.run) return;
          checkReferences(s.run, `${f} ${name}`);
          all.push([`${f}-${name}-${i}`, s.run]);
        });
      }
    }
    expect(all.length).toBeGreaterThan(8);
    expect(shellcheck(all)).toEqual([]);
  });
});

interface GlJob {
  stage?: string;
  extends?: string | string[];
  needs?: (string | { job: string })[];
  script?: (string | string[])[];
  before_script?: string[];
  services?: ({ name: string; alias?: string } | string)[];
  rules?: { if?: string; when?: string }[];
  environment?: { name: string } | string;
  image?: string | { name: string };
}

describe('GitLab CI (.gitlab-ci.yml)', () => {
  const doc = load('.gitlab-ci.yml') as Record<string, unknown> & { stages: string[] };
  const reserved = new Set([
    'stages',
    'variables',
    'default',
    'include',
    'workflow',
    'image',
    'services',
    'cache',
    'before_script',
    'after_script',
  ]);
  const templates = Object.fromEntries(Object.entries(doc).filter(([k]) => k.startsWith('.'))) as Record<string, GlJob>;
  const resolve = (j: GlJob): GlJob => {
    const parents = j.extends === undefined ? [] : Array.isArray(j.extends) ? j.extends : [j.extends];
    return Object.assign({}, ...parents.map((p) => resolve(templates[p]!)), j);
  };
  const jobs = Object.fromEntries(
    Object.entries(doc)
      .filter(([k]) => !k.startsWith('.') && !reserved.has(k))
      .map(([k, v]) => [k, resolve(v as GlJob)]),
  ) as Record<string, GlJob>;
  const needNames = (j: GlJob) => (j.needs ?? []).map((n) => (typeof n === 'string' ? n : n.job));
  const text = (j: GlJob) => [...(j.before_script ?? []), ...(j.script ?? []).flat()].join('\n');

  it('stages in order; every job in a declared stage; needs point at jobs of the same or an earlier stage', () => {
    expect(doc.stages).toEqual(['check', 'test', 'build', 'scan', 'push', 'deploy']);
    for (const [name, j] of Object.entries(jobs)) {
      expect(doc.stages, name).toContain(j.stage);
      for (const n of needNames(j)) {
        expect(Object.keys(jobs), `${name} needs ${n}`).toContain(n);
        expect(doc.stages.indexOf(jobs[n]!.stage!), `${name} needs ${n}`).toBeLessThanOrEqual(doc.stages.indexOf(j.stage!));
      }
    }
    for (const t of Object.values(doc).flatMap((v) => (v && typeof v === 'object' && 'extends' in v ? [(v as GlJob).extends].flat() : [])))
      expect(Object.keys(templates)).toContain(t);
  });

  it('lint, type-check, then the tests against Postgres and Redis services', () => {
    expect(text(jobs.lint!)).toMatch(/npm run lint/);
    expect(text(jobs.typecheck!)).toMatch(/npm run typecheck/);
    const services = (jobs.test!.services ?? []).map((s) => (typeof s === 'string' ? s : s.name));
    expect(services.some((s) => /^postgres:1[5-9]/.test(s))).toBe(true);
    expect(services.some((s) => /^redis:/.test(s))).toBe(true);
    expect(text(jobs.test!)).toContain('npm ci --no-audit --no-fund --prefix deploy/aws');
    expect(text(jobs.test!)).toMatch(/npm test/);
    expect(needNames(jobs['build-image']!).sort()).toEqual(['lint', 'test', 'typecheck']);
  });

  it('the image is built once, scanned (fails on HIGH/CRITICAL), and only then pushed', () => {
    expect(text(jobs['scan-image']!)).toMatch(/trivy image --input image\.tar .*--exit-code 1/);
    expect(needNames(jobs['push-image']!)).toEqual(['build-image', 'scan-image']);
    expect(text(jobs['push-image']!)).toContain('crane push image.tar');
  });

  it('rc/* deploys to staging; a v* tag promotes to production; both run rollout.sh (migrations first)', () => {
    const rule = (j: string) => (jobs[j]!.rules ?? []).map((r) => r.if ?? '').join(' | ');
    expect(rule('deploy-staging')).toContain('$CI_COMMIT_BRANCH =~ /^rc\\//');
    expect(rule('deploy-production')).toContain('$CI_COMMIT_TAG =~ /^v/');
    expect(rule('promote-production')).toContain('$CI_COMMIT_TAG =~ /^v/');
    expect(needNames(jobs['deploy-production']!)).toEqual(['promote-production']);
    expect(needNames(jobs['deploy-staging']!)).toEqual(['push-image']);
    for (const j of ['deploy-staging', 'deploy-production']) {
      expect(text(jobs[j]!)).toContain('deploy/k8s/rollout.sh');
      expect(jobs[j]!.environment).toMatchObject({ name: j.replace('deploy-', '') });
    }
    expect(text(jobs['promote-production']!)).toMatch(/crane tag/);
  });

  it('every script refers to files and npm scripts that exist, and passes shellcheck', () => {
    const all: [string, string][] = [];
    for (const [name, j] of Object.entries(jobs)) {
      checkReferences(text(j), name);
      all.push([`gitlab-${name}`, text(j)]);
    }
    expect(shellcheck(all)).toEqual([]);
  });
});
