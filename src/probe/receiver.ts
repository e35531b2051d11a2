// The probe's own webhook receiver: the gateway delivers the probe's messages here.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenHttp } from '../net/http-listen.ts';

export const RECEIVER_PATH = '/webhook';
const MAX_BODY_BYTES = 256 * 1024;

export interface Delivery {
  headers: { id: string; timestamp: string; signature: string };
  body: string;
  /** performance.now() when the request body had arrived. */
  receivedAt: number;
}

export interface Receiver {
  /** Base URL the server listens on (http://host:port). */
  readonly url: string;
  /** Registers interest in a marker before publishing, so an early delivery is not missed. */
  expect(marker: string): { delivered: Promise<Delivery>; cancel(): void };
  close(): Promise<void>;
}

const header = (req: IncomingMessage, name: string): string => {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(' ') : (v ?? '');
};

function markerOf(body: string): string | undefined {
  try {
    const marker = (JSON.parse(body) as { data?: { marker?: unknown } })?.data?.marker;
    return typeof marker === 'string' ? marker : undefined;
  } catch {
    return undefined;
  }
}

export async function startReceiver(host: string, port: number): Promise<Receiver> {
  const waiting = new Map<string, (d: Delivery) => void>();

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== RECEIVER_PATH) {
      res.writeHead(req.method === 'GET' ? 200 : 404, { 'content-type': 'text/plain' }).end('tramline probe receiver\n');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        res.writeHead(413, { connection: 'close' }).end();
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      const receivedAt = performance.now();
      const body = Buffer.concat(chunks).toString('utf8');
      const marker = markerOf(body);
      const resolve = marker === undefined ? undefined : waiting.get(marker);
      if (resolve) {
        waiting.delete(marker!);
        resolve({
          headers: {
            id: header(req, 'webhook-id'),
            timestamp: header(req, 'webhook-timestamp'),
            signature: header(req, 'webhook-signature'),
          },
          body,
          receivedAt,
        });
      }
      // Always 2xx, also for messages of earlier runs (retried after a probe restart): they need no more retries.
      res.writeHead(204).end();
    });
    req.on('error', () => res.destroy());
  };

  const server = createServer(handle);
  const url = await listenHttp(server, port, host);

  return {
    url,
    expect(marker) {
      let cancel = (): void => {};
      const delivered = new Promise<Delivery>((resolve) => {
        waiting.set(marker, resolve);
        cancel = () => waiting.delete(marker);
      });
      return { delivered, cancel };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // The gateway keeps connections alive; don't wait for them to time out.
        server.closeAllConnections();
      }),
  };
}
