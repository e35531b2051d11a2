/**
 * The delivery HTTP client (src/delivery/http-client.ts) against one TLS endpoint, HTTP/1.1 against HTTP/2, at an
 * endpoint window's sizes (deliveries in flight at once): deliveries/s, CPU per delivery of the client (this
 * process) and of the receiver (a child process), and the connections the receiver saw. The same body and headers
 * as a webhook; the receiver answers 204 at once.
 *
 *   npx tsx bench/http2.ts [--requests 20000] [--windows 16,64,256] [--rounds 2]
 */
import { execFileSync, fork } from 'node:child_process';
import fs from 'node:fs';
import type http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createHttpClient } from '../src/delivery/http-client.ts';
import { parseCidrList } from '../src/domain/egress-guard.ts';
import { cpuSeconds } from './lib/cpu.ts';

if (process.argv[2] === 'serve') {
  // The receiver: offers h2 and http/1.1 (ALPN), or http/1.1 only; reports its port, counts connections on request.
  const [, , , key, cert, offerH2] = process.argv;
  let connections = 0;
  const tls = { key: fs.readFileSync(key!), cert: fs.readFileSync(cert!) };
  const answer = (req: http.IncomingMessage | http2.Http2ServerRequest, res: { writeHead(s: number): { end(): unknown } }): void => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  };
  const server = offerH2 === 'h2' ? http2.createSecureServer({ ...tls, allowHTTP1: true }, answer) : https.createServer(tls, answer);
  server.on('secureConnection', () => connections++);
  server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as AddressInfo).port }));
  process.on('message', () => process.send!({ connections }));
} else {
  const { values: args } = parseArgs({
    options: {
      requests: { type: 'string', default: '20000' },
      windows: { type: 'string', default: '16,64,256' },
      rounds: { type: 'string', default: '2' },
    },
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-bench-h2-'));
  const [key, cert] = [path.join(dir, 'key.pem'), path.join(dir, 'cert.pem')];
  execFileSync('openssl', [
    ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'],
    ...['-keyout', key, '-out', cert, '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
  ]);
  const body = JSON.stringify({ type: 'invoice.paid', timestamp: new Date().toISOString(), data: { id: 'inv_1', note: 'x'.repeat(300) } });
  const headers = {
    'content-type': 'application/json',
    'webhook-id': 'msg_1',
    'webhook-timestamp': '1700000000',
    'webhook-signature': `v1,${'a'.repeat(44)}`,
  };
  const requests = Number(args.requests);
  process.stdout.write(`delivery client over TLS, ${requests} posts per run, the receiver answering 204 at once\n`);
  process.stdout.write('| protocol | in flight | posts/s | client µs/post | receiver µs/post | connections |\n|---|---|---|---|---|---|\n');
  try {
    for (let round = 0; round < Number(args.rounds); round++) {
      for (const window of args.windows!.split(',').map(Number)) {
        for (const protocol of ['h1', 'h2'] as const) {
          const server = fork(import.meta.filename, ['serve', key, cert, protocol], { execArgv: ['--import', 'tsx'] });
          const ask = <T>(): Promise<T> => new Promise((resolve) => server.once('message', (m) => resolve(m as T)));
          const { port } = await ask<{ port: number }>();
          const client = createHttpClient({
            timeoutMs: 10_000,
            allow: parseCidrList('127.0.0.0/8'),
            ca: fs.readFileSync(cert, 'utf8'),
            http2: protocol === 'h2',
          });
          const url = `https://127.0.0.1:${port}/hook`;
          let next = 0;
          let failed = 0;
          const cpu0 = process.cpuUsage();
          const receiver0 = cpuSeconds(server.pid!) ?? 0;
          const t0 = performance.now();
          await Promise.all(
            Array.from({ length: window }, async () => {
              while (next++ < requests) {
                const r = await client.post(url, headers, body);
                if (r.kind !== 'response' || r.status !== 204) failed++;
              }
            }),
          );
          const seconds = (performance.now() - t0) / 1000;
          const cpu = process.cpuUsage(cpu0);
          const receiverS = (cpuSeconds(server.pid!) ?? receiver0) - receiver0;
          server.send('count');
          const { connections } = await ask<{ connections: number }>();
          await client.close();
          server.kill();
          if (failed > 0) throw new Error(`${failed} posts failed (${protocol}, ${window} in flight)`);
          const us = (s: number): string => ((s * 1e6) / requests).toFixed(1);
          process.stdout.write(
            `| ${protocol === 'h1' ? 'HTTP/1.1' : 'HTTP/2'} | ${window} | ${Math.round(requests / seconds)} | ${us((cpu.user + cpu.system) / 1e6)} | ${us(receiverS)} | ${connections} |\n`,
          );
        }
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
