import http from 'node:http';
import net from 'node:net';

/**
 * Receivers that misbehave on purpose, each on its own port: a body sent a byte a second, a connection
 * accepted and never answered, a 100 MB response, a reset in the middle of the response, and a TLS
 * handshake that never comes (a TCP server an https:// endpoint points at). Each notes how long every
 * connection stayed open, as the receiver sees it: from its first byte for a connection that carried an attempt,
 * and apart from those, how long a connection that never carried one stayed idle. undici dials a fresh connection
 * as soon as an aborted attempt's socket closes, and keeps it idle until its 4 s keep-alive timeout: that one holds
 * no attempt, so no deadline applies to it.
 */
export type HostileKind = 'slow-body' | 'never-answers' | 'huge-response' | 'reset-mid-response' | 'tls-stall';
export const HOSTILE_KINDS: HostileKind[] = ['slow-body', 'never-answers', 'huge-response', 'reset-mid-response', 'tls-stall'];

export interface HostileReceiver {
  kind: HostileKind;
  url: string;
  /** How long each connection that carried an attempt stayed open (ms) from its first byte, once closed. */
  connectionMs: number[];
  /** How long each connection that never carried a byte stayed open (ms), once closed. */
  idleConnectionMs: number[];
  close(): Promise<void>;
}

const HUNDRED_MB = 100 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);

export async function startHostileReceiver(kind: HostileKind): Promise<HostileReceiver> {
  const sockets = new Set<net.Socket>();
  const connectionMs: number[] = [];
  const idleConnectionMs: number[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    req.resume();
    req.on('end', () => {
      if (kind === 'slow-body') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const t = setInterval(() => !res.destroyed && res.write('.'), 1000);
        timers.add(t);
        res.on('close', () => clearInterval(t));
      } else if (kind === 'huge-response') {
        res.writeHead(200, { 'content-length': String(HUNDRED_MB) });
        let sent = 0;
        const pump = (): void => {
          while (sent < HUNDRED_MB && !res.destroyed) {
            sent += CHUNK.length;
            if (!res.write(CHUNK)) return void res.once('drain', pump);
          }
          if (!res.destroyed) res.end();
        };
        pump();
      } else if (kind === 'reset-mid-response') {
        res.writeHead(200, { 'content-length': '100000' });
        res.write('partial answer, then a reset');
        setTimeout(() => req.socket.resetAndDestroy(), 50);
      }
      // never-answers: nothing, ever
    });
  };
  const server: net.Server =
    kind === 'never-answers' || kind === 'tls-stall' ? net.createServer((s) => s.on('data', () => {})) : http.createServer(handler);
  server.on('connection', (s: net.Socket) => {
    const opened = Date.now();
    let firstByteAt: number | null = null;
    sockets.add(s);
    s.on('error', () => {});
    s.once('data', () => {
      firstByteAt = Date.now();
    });
    s.on('close', () => {
      sockets.delete(s);
      if (firstByteAt === null) idleConnectionMs.push(Date.now() - opened);
      else connectionMs.push(Date.now() - firstByteAt);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    kind,
    url: `${kind === 'tls-stall' ? 'https' : 'http'}://127.0.0.1:${port}/${kind}`,
    connectionMs,
    idleConnectionMs,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearInterval(t);
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
