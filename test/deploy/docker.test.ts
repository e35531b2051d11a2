import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { lintDockerfile, parseDockerfile } from './dockerfile-lint.ts';

const root = path.resolve(import.meta.dirname, '../..');
const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
const { stages } = parseDockerfile(dockerfile);
const runtime = stages.at(-1)!;
const build = stages[0]!;
const args = (s: typeof runtime, k: string) => s.instructions.filter((i) => i.keyword === k).map((i) => i.args);

describe('Dockerfile (hadolint-style rules)', () => {
  it('passes every rule', () => {
    expect(lintDockerfile(dockerfile)).toEqual([]);
  });

  it('the rules catch what they are for', () => {
    const bad = [
      'FROM node:latest',
      'ADD https://example.com/x.tgz /x.tgz',
      'WORKDIR app',
      'RUN cd /app && npm install && curl -s https://x | sh',
      'ENV TRAMLINE_MASTER_KEY=abc',
      'USER root',
      'CMD node bin/tramline.js',
    ].join('\n');
    const problems = lintDockerfile(bad).join('\n');
    for (const rule of [
      'multi-stage',
      'DL3007',
      'DL3020',
      'never ADD a URL',
      'DL3000',
      'DL3003',
      'DL3016',
      'DL4006',
      'secret',
      'numeric uid',
      'HEALTHCHECK missing',
      'STOPSIGNAL',
      'DL3025',
      'ENTRYPOINT missing',
      'OCI label',
    ]) {
      expect(problems).toContain(rule);
    }
    expect(lintDockerfile('FROM node:22\nFROM node:22.1.0@sha256:' + 'a'.repeat(64) + '\nUSER 0').join('\n')).toMatch(
      /not pinned.*node:22$/m,
    );
  });

  it('builds dist/ in the first stage and prunes development dependencies', () => {
    const runs = args(build, 'RUN').join('\n');
    expect(runs).toMatch(/npm ci\b/);
    expect(runs).toMatch(/npm run build/);
    expect(runs).toMatch(/npm prune --omit=dev/);
    // The lockfile is copied before the sources, so the dependency layer is cached across source changes.
    const copies = args(build, 'COPY');
    expect(copies[0]).toBe('package.json package-lock.json ./');
  });

  it('the runtime stage holds only the compiled app, runs one image for every role, writes only to /data and /tmp', () => {
    const copies = args(runtime, 'COPY');
    const from = (stage: string) => copies.filter((c) => c.includes(`--from=${stage} `)).map((c) => c.split(' ').at(-2));
    expect(from('build').sort()).toEqual(['/app/bin', '/app/dist', '/app/package.json']);
    // Production dependencies from a stage that depends on the lockfile only: the same layer across code changes.
    expect(from('prod-deps')).toEqual(['/app/node_modules']);
    const prodDeps = stages.find((s) => s.name === 'prod-deps')!;
    expect(args(prodDeps, 'COPY')).toEqual(['package.json package-lock.json ./']);
    expect(args(prodDeps, 'RUN').join('\n')).toMatch(/npm ci --omit=dev/);
    // Nothing copied into the runtime is owned by the process's user: the app cannot rewrite itself.
    for (const c of copies) expect(c).toContain('--chown=root:root');
    expect(args(runtime, 'VOLUME')).toEqual(['["/data"]']);
    const env = args(runtime, 'ENV').join(' ');
    expect(env).toContain('TRAMLINE_DATA_DIR=/data');
    expect(env).toContain('HOST=0.0.0.0'); // probes reach the process in a container
    expect(env).toContain('NODE_ENV=production');
    expect(args(runtime, 'USER')).toEqual(['10001:10001']);
    expect(args(runtime, 'EXPOSE')).toEqual(['8080 9464']);
    expect(JSON.parse(args(runtime, 'ENTRYPOINT')[0]!)).toEqual(['node', 'bin/tramline.js']);
    expect(JSON.parse(args(runtime, 'CMD')[0]!)).toEqual(['start', '--role', 'all']);
    expect(build.from).toBe(runtime.from); // the same pinned Node.js for build and run
  });

  it('.dockerignore keeps dependencies, data, secrets and the CDK package out of the context; what COPY needs stays in', () => {
    const ignore = readFileSync(path.join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    for (const p of ['**/node_modules', '.git', '.tramline', '.env', 'dist', 'deploy/aws', 'test']) expect(ignore).toContain(p);
    for (const f of ['package.json', 'package-lock.json', 'deploy/docker/healthcheck.mjs', 'bin/tramline.js']) {
      expect(existsSync(path.join(root, f)), f).toBe(true);
      expect(ignore).not.toContain(f);
    }
  });
});

describe('deploy/docker/healthcheck.mjs (the image HEALTHCHECK), against real sockets', () => {
  const script = path.join(root, 'deploy/docker/healthcheck.mjs');
  const run = async (env: Record<string, string>): Promise<number> => {
    try {
      await promisify(execFile)(process.execPath, [script], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 10_000 });
      return 0;
    } catch (err) {
      return (err as { code?: number }).code ?? -1;
    }
  };
  const listen = async <S extends net.Server>(server: S): Promise<{ server: S; port: number }> => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { server, port: (server.address() as net.AddressInfo).port };
  };
  const freePort = async (): Promise<number> => {
    const { server, port } = await listen(net.createServer());
    await new Promise((resolve) => server.close(resolve));
    return port;
  };

  it('api role: healthy on /healthz 200, unhealthy on anything else', async () => {
    let status = 200;
    const { server, port } = await listen(http.createServer((req, res) => res.writeHead(req.url === '/healthz' ? status : 404).end()));
    try {
      const none = await freePort();
      expect(await run({ PORT: String(port), TRAMLINE_METRICS_PORT: String(none) })).toBe(0);
      status = 503;
      expect(await run({ PORT: String(port), TRAMLINE_METRICS_PORT: String(none) })).toBe(1);
    } finally {
      server.close();
    }
  });

  it('worker and scheduler roles: no API, healthy while the metrics port accepts connections', async () => {
    const apiPort = await freePort();
    const { server, port } = await listen(net.createServer((s) => s.end()));
    try {
      expect(await run({ PORT: String(apiPort), TRAMLINE_METRICS_PORT: String(port) })).toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await run({ PORT: String(apiPort), TRAMLINE_METRICS_PORT: String(port) })).toBe(1);
  });
});
