import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The webhook receiver of the rollout test, a process of its own (as a customer's endpoint is): answers 204
 * to every delivery and remembers each `webhook-id` it saw. `GET /stats` → `{ total, unique }`,
 * `GET /ids` → every distinct webhook-id. Sends `{ url }` to its parent once it listens.
 */
const seen = new Set<string>();
let total = 0;

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && (req.url === '/stats' || req.url === '/ids')) {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.url === '/stats' ? { total, unique: seen.size } : [...seen]));
    return;
  }
  req.resume();
  req.on('end', () => {
    const id = req.headers['webhook-id'];
    if (typeof id === 'string') {
      total++;
      seen.add(id);
    }
    res.writeHead(204).end();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ url: `http://127.0.0.1:${port}` });
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('disconnect', () => process.exit(0));
