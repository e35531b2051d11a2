import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const root = path.resolve(import.meta.dirname, '../..');
const file = path.join(root, 'docker-compose.yml');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  user?: string;
  read_only?: boolean;
  cap_drop?: string[];
  security_opt?: string[];
  stop_grace_period?: string;
  restart?: string;
  ports?: string[];
  volumes?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }> | string[];
  deploy?: { replicas?: number };
}

const env = {
  TRAMLINE_MASTER_KEY: 'test-master-key',
  TRAMLINE_OPERATOR_TOKEN: 'test-operator-token-0123456789',
  PATH: process.env.PATH ?? '',
};

function composeClient(): string[] | null {
  for (const cmd of [['docker-compose'], ['docker', 'compose']]) {
    try {
      execFileSync(cmd[0]!, [...cmd.slice(1), 'version'], { stdio: 'ignore' });
      return cmd;
    } catch {
      // not installed, or `docker` without its compose plugin
    }
  }
  return null;
}

/** The resolved file: by the Compose client itself when there is one (offline, no engine needed), else our own YAML read with merge keys. */
async function resolved(): Promise<{ services: Record<string, Service>; by: string }> {
  const client = composeClient();
  if (client) {
    const { stdout } = await promisify(execFile)(client[0]!, [...client.slice(1), '-f', file, 'config'], { cwd: root, env });
    return { services: parse(stdout).services, by: client.join(' ') };
  }
  const doc = parse(readFileSync(file, 'utf8'), { merge: true });
  return { services: doc.services, by: 'yaml' };
}

const seconds = (d: string | undefined): number => {
  const m = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(d ?? '');
  return m ? Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0) : 0;
};

describe('docker-compose.yml', async () => {
  const { services, by } = await resolved();
  console.log(`compose file resolved by: ${by}`);
  const tramline = Object.entries(services).filter(([, s]) => s.build !== undefined);
  const replicas = (name: string) => services[name]?.deploy?.replicas ?? 1;
  const role = (s: Service) => s.command?.join(' ');

  it('the Compose client accepts it; it refuses to start without the master key and operator token', async () => {
    const client = composeClient();
    if (!client) return; // structure checks below still run
    await expect(
      promisify(execFile)(client[0]!, [...client.slice(1), '-f', file, 'config', '-q'], { cwd: root, env: { PATH: env.PATH } }),
    ).rejects.toThrow(/TRAMLINE_MASTER_KEY/);
  });

  it('api ×2, worker ×2, one scheduler, a one-shot migrate, Postgres, Redis, nginx, Prometheus, Grafana', () => {
    const byRole = (r: string) => tramline.filter(([_n, s]) => role(s) === r).reduce((sum, [n]) => sum + replicas(n), 0);
    expect(byRole('start --role api')).toBe(2);
    expect(byRole('start --role worker')).toBe(2);
    expect(byRole('start --role scheduler')).toBe(1);
    expect(byRole('migrate')).toBe(1);
    for (const s of ['postgres', 'redis', 'nginx', 'prometheus', 'grafana']) expect(services[s], s).toBeDefined();
    expect(services.migrate!.restart).toBe('no');
  });

  it('every gateway process waits for the migration to finish, on a healthy Postgres and Redis', () => {
    for (const [name, s] of tramline) {
      if (name === 'migrate') {
        expect(s.depends_on).toMatchObject({ postgres: { condition: 'service_healthy' } });
        continue;
      }
      expect(s.depends_on, name).toMatchObject({
        migrate: { condition: 'service_completed_successfully' },
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
      });
    }
  });

  it('one image for every role; non-root, read-only root filesystem, no capabilities, drain before SIGKILL', () => {
    const images = new Set(tramline.map(([, s]) => s.image));
    expect(images.size).toBe(1);
    for (const [name, s] of tramline) {
      expect(s.user, name).toBe('10001:10001');
      expect(s.read_only, name).toBe(true);
      expect(s.cap_drop, name).toEqual(['ALL']);
      expect(s.security_opt, name).toContain('no-new-privileges:true');
      expect(seconds(s.stop_grace_period), name).toBeGreaterThan(seconds(s.environment?.TRAMLINE_SHUTDOWN_TIMEOUT));
      expect(s.environment?.DATABASE_URL, name).toMatch(/^postgres:\/\/.+@postgres:5432\//);
      expect(s.environment?.REDIS_URL, name).toBe('redis://redis:6379');
      expect(s.ports, `${name} is reached through nginx only`).toBeUndefined();
    }
  });

  it('the databases are not published; every image is pinned to a version', () => {
    expect(services.postgres!.ports).toBeUndefined();
    expect(services.redis!.ports).toBeUndefined();
    for (const [name, s] of Object.entries(services)) {
      if (s.build) continue;
      expect(s.image, name).toMatch(/:v?\d+\.\d+(\.\d+)?(-[a-z0-9]+)?$/);
    }
  });

  it('nginx, Prometheus and Grafana use the repository’s files, and each mounted file exists', () => {
    const sources = (s: string) =>
      (services[s]!.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[0]! : (v as { source: string }).source));
    expect(sources('nginx').map((p) => path.relative(root, path.resolve(root, p)))).toContain('deploy/nginx/nginx.conf');
    expect(sources('prometheus').map((p) => path.relative(root, path.resolve(root, p)))).toEqual(
      expect.arrayContaining(['deploy/prometheus', 'deploy/docker/prometheus.yml']),
    );
    expect(sources('grafana').map((p) => path.relative(root, path.resolve(root, p)))).toEqual(
      expect.arrayContaining([
        'deploy/grafana/dashboards',
        'deploy/grafana/provisioning/dashboards',
        'deploy/docker/grafana-datasource.yml',
      ]),
    );
    for (const s of ['nginx', 'prometheus', 'grafana']) {
      for (const src of sources(s).filter((p) => p.startsWith('.') || p.startsWith('/')))
        expect(existsSync(path.resolve(root, src)), src).toBe(true);
    }
  });

  it('promtool accepts the compose Prometheus configuration with the repository’s rule files', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tramline-prom-'));
    try {
      cpSync(path.join(root, 'deploy/docker/prometheus.yml'), path.join(dir, 'prometheus.yml'));
      cpSync(path.join(root, 'deploy/prometheus'), path.join(dir, 'tramline'), { recursive: true });
      const out = execFileSync('promtool', ['check', 'config', path.join(dir, 'prometheus.yml')], { encoding: 'utf8' });
      expect(out).toMatch(/SUCCESS: 3 rule files found/);
      expect(readdirSync(path.join(dir, 'tramline'))).toContain('alerts.yml');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
