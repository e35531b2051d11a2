/**
 * The fast webhook receiver, in a process of its own so it never competes with the load generator
 * for a thread. Answers 204 at once, or after 2 s for paths under /slow/ (while slow mode is on).
 * Reports the first arrival of each (path, webhook-id) to the parent over IPC, in batches every
 * 50 ms, with the wall-clock time it arrived (performance.timeOrigin + performance.now(), comparable
 * across processes on one machine).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type ToReceiver = { type: 'slow'; enabled: boolean } | { type: 'reset' };
export type FromReceiver =
  | { type: 'ready'; port: number }
  | { type: 'arrivals'; ids: string[]; paths: string[]; times: number[]; requests: number };

const SLOW_MS = 2000;
let slow = true;
let seen = new Set<string>();
let ids: string[] = [];
let paths: string[] = [];
let times: number[] = [];
let requests = 0;

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    const at = performance.timeOrigin + performance.now();
    requests++;
    const id = String(req.headers['webhook-id'] ?? '');
    const path = req.url ?? '/';
    const key = `${path} ${id}`;
    if (!seen.has(key)) {
      seen.add(key);
      ids.push(id);
      paths.push(path);
      times.push(at);
    }
    if (slow && path.startsWith('/slow/')) setTimeout(() => res.writeHead(204).end(), SLOW_MS);
    else res.writeHead(204).end();
  });
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 65_000;

const flush = (): void => {
  if (ids.length === 0 && requests === 0) return;
  process.send!({ type: 'arrivals', ids, paths, times, requests } satisfies FromReceiver);
  ids = [];
  paths = [];
  times = [];
  requests = 0;
};
setInterval(flush, 50);

process.on('message', (m: ToReceiver) => {
  if (m.type === 'slow') slow = m.enabled;
  if (m.type === 'reset') seen = new Set();
});
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => process.send!({ type: 'ready', port: (server.address() as AddressInfo).port } satisfies FromReceiver));
