import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const conf = readFileSync(path.join(root, 'deploy/nginx/nginx.conf'), 'utf8');
const conf0 = conf;

describe('deploy/nginx/nginx.conf', () => {
  it('nginx -t accepts it (the compose host names replaced by 127.0.0.1)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tramline-nginx-'));
    try {
      // Outside compose the upstream host names do not resolve, which nginx -t reports as an error.
      writeFileSync(path.join(dir, 'nginx.conf'), conf.replace(/\bapi-\d+:8080/g, '127.0.0.1:8080'));
      // Output to a file, not a pipe: Node's pipes are sockets, which /dev/stdout cannot be opened on (a container's can).
      const log = path.join(dir, 'out.log');
      const fd = openSync(log, 'w');
      const r = spawnSync('nginx', ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: ['ignore', fd, fd] });
      closeSync(fd);
      const out = readFileSync(log, 'utf8');
      expect(out).toMatch(/test is successful/);
      expect(r.status, out).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('balances over both api replicas, retries only requests that never reached one, and idles out before the gateway', () => {
    expect(conf.match(/^\s*server api-\d+:8080/gm)).toHaveLength(2);
    expect(conf).toMatch(/proxy_next_upstream error timeout/);
    // A POST that reached a replica is sent again only from the location of requests carrying an Idempotency-Key.
    const resending = conf.split(/\n\s*location /).filter((block) => /^\s*proxy_next_upstream .*non_idempotent/m.test(block));
    expect(resending.map((block) => block.split(/\s/)[0])).toEqual(['@idempotent']);
    expect(conf).toMatch(/if \(\$http_idempotency_key != ""\) \{\s*return 418;\s*\}/);
    expect(conf).toMatch(/error_page 418 = @idempotent;/);
    expect(conf).toMatch(/proxy_http_version 1\.1;/);
    const idle = Number(/keepalive_timeout (\d+)s;/.exec(conf)?.[1]);
    expect(idle).toBeGreaterThan(0);
    expect(idle).toBeLessThan(65); // the gateway keeps idle connections longer than this
    expect(conf).toMatch(/location = \/metrics \{\s*return 404;/);
  });

  describe('behaviour: a real nginx with this configuration in front of two local upstreams', () => {
    const listen = async (handler: http.RequestListener): Promise<{ server: http.Server; port: number }> => {
      const server = http.createServer(handler);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return { server, port: (server.address() as net.AddressInfo).port };
    };
    const freePort = async (): Promise<number> => {
      const s = net.createServer();
      await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
      const { port } = s.address() as net.AddressInfo;
      await new Promise((resolve) => s.close(resolve));
      return port;
    };
    const hits = { a: 0, b: 0, bPosts: 0 };
    let crashPostsOnA = false;
    let dir = '';
    let nginx: ChildProcess | undefined;
    let base = '';
    let a: Awaited<ReturnType<typeof listen>>;
    let b: Awaited<ReturnType<typeof listen>>;

    beforeAll(async () => {
      const upstream =
        (name: 'a' | 'b'): http.RequestListener =>
        (req, res) => {
          hits[name]++;
          if (name === 'b' && req.method === 'POST') hits.bPosts++;
          let body = '';
          req.setEncoding('utf8');
          req.on('data', (c: string) => (body += c));
          req.on('end', () => {
            // A replica that dies after it read the request: nginx must not send that POST elsewhere.
            if (name === 'a' && req.method === 'POST' && crashPostsOnA) return req.socket.destroy();
            res.writeHead(200, { 'content-type': 'text/plain' }).end(req.method === 'POST' ? `${name} ${body}` : name);
          });
        };
      a = await listen(upstream('a'));
      b = await listen(upstream('b'));
      const port = await freePort();
      dir = mkdtempSync(path.join(os.tmpdir(), 'tramline-nginx-run-'));
      const conf = conf0
        .replace('server api-1:8080', `server 127.0.0.1:${a.port}`)
        .replace('server api-2:8080', `server 127.0.0.1:${b.port}`)
        .replace(/listen 8080;/, `listen 127.0.0.1:${port};`)
        .replace(/worker_processes auto;/, 'worker_processes 1;')
        .replace(/pid \/tmp\/nginx\.pid;/, `pid ${dir}/nginx.pid;`)
        .replace(/access_log \/dev\/stdout;/, `access_log ${dir}/access.log;`)
        .replace(/\/tmp\/nginx-/g, `${dir}/nginx-`);
      writeFileSync(path.join(dir, 'nginx.conf'), conf);
      const log = openSync(path.join(dir, 'nginx.out'), 'w');
      nginx = spawn('nginx', ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', log, log] });
      closeSync(log);
      base = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 15_000;
      for (;;) {
        const ok = await fetch(`${base}/nginx-health`).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) break;
        if (Date.now() > deadline) throw new Error(`nginx did not start: ${readFileSync(path.join(dir, 'nginx.out'), 'utf8')}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    });

    afterAll(async () => {
      if (nginx && nginx.exitCode === null) {
        const exited = new Promise((resolve) => nginx!.once('exit', resolve));
        nginx.kill('SIGQUIT');
        await exited;
      }
      a?.server.close();
      b?.server.closeAllConnections();
      b?.server.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('spreads requests over both replicas; /metrics is not served', async () => {
      for (let i = 0; i < 20; i++) expect((await fetch(`${base}/v1/x`)).status).toBe(200);
      expect(hits.a).toBeGreaterThan(0);
      expect(hits.b).toBeGreaterThan(0);
      expect((await fetch(`${base}/metrics`)).status).toBe(404);
    });

    it('a replica that refuses connections (restarting) costs no request: they go to the other one', async () => {
      b.server.closeAllConnections();
      await new Promise((resolve) => b.server.close(resolve));
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) statuses.push((await fetch(`${base}/v1/publish`, { method: 'POST', body: '{}' })).status);
      expect(statuses).toEqual(statuses.map(() => 200));
      // Back up on the same port, as a restarted replica would be.
      await new Promise<void>((resolve) => b.server.listen(b.port, '127.0.0.1', resolve));
    });
    it('a publish that reached a replica which then died is answered 502, never sent to the other replica', async () => {
      // nginx takes the restarted replica back once its fail_timeout is over: wait until it answers again.
      const deadline = Date.now() + 20_000;
      for (let seen = hits.b; hits.b === seen; ) {
        expect(Date.now()).toBeLessThan(deadline);
        await fetch(`${base}/v1/x`);
        if (hits.b === seen) await new Promise((r) => setTimeout(r, 200));
      }
      crashPostsOnA = true;
      const before = { ...hits };
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push((await fetch(`${base}/v1/publish`, { method: 'POST', body: '{}' })).status);
      crashPostsOnA = false;
      const failed = statuses.filter((s) => s === 502).length;
      expect(failed).toBeGreaterThan(0); // some went to A
      // Every POST B saw is one that answered 200: none of A's was resent to B.
      expect(hits.bPosts - before.bPosts).toBe(statuses.filter((s) => s === 200).length);
    });

    it('a publish with an Idempotency-Key that reached a replica which then died is sent to the other one, body and all', async () => {
      // A failed in the test above: wait until nginx sends to it again (its fail_timeout is over).
      const deadline = Date.now() + 20_000;
      for (let seen = hits.a; hits.a === seen; ) {
        expect(Date.now()).toBeLessThan(deadline);
        await fetch(`${base}/v1/x`);
        if (hits.a === seen) await new Promise((r) => setTimeout(r, 200));
      }
      crashPostsOnA = true;
      const before = { ...hits };
      const answers: Array<{ status: number; text: string }> = [];
      for (let i = 0; i < 10; i++) {
        const r = await fetch(`${base}/v1/publish`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': `idem_${i}` },
          body: `{"n":${i}}`,
        });
        answers.push({ status: r.status, text: await r.text() });
      }
      crashPostsOnA = false;
      expect(hits.a - before.a).toBeGreaterThan(0); // some went to A first, and A died with them
      expect(answers).toEqual(answers.map((_, i) => ({ status: 200, text: `b {"n":${i}}` })));
    });
  });
});
