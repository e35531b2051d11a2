// `tramline listen`: a local webhook receiver (like `stripe listen`) that prints
// each delivery and checks its Standard Webhooks signature, for development.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { InvalidArgumentError, type Command } from 'commander';
import { isValidSecret, verify } from '../domain/signing.ts';
import { listenHttp } from '../http-listen.ts';

export interface ListenOptions {
  port: number;
  host?: string;
  secret?: string;
  /** Status code to answer every webhook with (default 204); use e.g. 500 to exercise retries. */
  status?: number;
  out?: (line: string) => void;
  /** Clock in ms, for the printed time and the signature timestamp check. */
  now?: () => number;
}

export interface Listener {
  url: string;
  close(): Promise<void>;
}

// A dev tool must not be knocked over by a runaway sender.
const MAX_BODY_BYTES = 10 * 1024 * 1024;

function checkStatus(status: number): void {
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new Error(`Invalid status ${status}: expected an integer from 200 to 599`);
  }
}

function header(req: IncomingMessage, name: string): string {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(' ') : (value ?? '');
}

function describeTimestamp(raw: string): string {
  if (!/^\d{1,15}$/.test(raw)) return raw || '(missing)';
  return `${raw} (${new Date(Number(raw) * 1000).toISOString()})`;
}

export async function startListener(opts: ListenOptions): Promise<Listener> {
  const host = opts.host ?? '127.0.0.1';
  const status = opts.status ?? 204;
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = opts.now ?? Date.now;
  const secret = opts.secret;
  checkStatus(status);
  // Reject a bad secret up front rather than printing INVALID for every webhook.
  if (secret !== undefined && !isValidSecret(secret)) {
    throw new Error('Invalid --secret: expected whsec_ followed by base64 of 24..64 bytes');
  }

  const report = (req: IncomingMessage, body: string): void => {
    const id = header(req, 'webhook-id');
    const timestamp = header(req, 'webhook-timestamp');
    const signature = header(req, 'webhook-signature');
    let parsed: unknown;
    let isJson = false;
    try {
      parsed = JSON.parse(body);
      isJson = true;
    } catch {
      // Not JSON: printed raw below.
    }
    const type =
      isJson && parsed !== null && typeof parsed === 'object' && typeof (parsed as { type?: unknown }).type === 'string'
        ? (parsed as { type: string }).type
        : '(none)';

    let check: string;
    if (secret === undefined) {
      check = 'signature not checked (no --secret)';
    } else {
      const result = verify(secret, { id, timestamp, signature }, body, Math.floor(now() / 1000));
      check = result.ok ? 'signature ok' : `signature INVALID: ${result.reason}`;
    }

    out(`--- ${new Date(now()).toISOString()}  ${req.method} ${req.url ?? '/'}`);
    out(`webhook-id:        ${id || '(missing)'}`);
    out(`webhook-timestamp: ${describeTimestamp(timestamp)}`);
    out(`type:              ${type}`);
    out(check);
    if (body === '') out('(empty body)');
    else for (const line of (isJson ? JSON.stringify(parsed, null, 2) : body).split('\n')) out(line);
    out('');
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        tooLarge = true;
        chunks.length = 0;
        res.writeHead(413, { connection: 'close' }).end();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) return;
      report(req, Buffer.concat(chunks).toString('utf8'));
      res.writeHead(status).end();
    });
    // An aborted upload must not crash the listener.
    req.on('error', () => res.destroy());
  };

  const server = createServer(handle);
  const url = await listenHttp(server, opts.port, host);
  return {
    url,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Senders (fetch/undici) keep connections alive; don't wait for them to time out.
        server.closeAllConnections();
      }),
  };
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError('expected a port number 0..65535');
  return port;
}

function parseStatus(value: string): number {
  const status = Number(value);
  if (!/^\d{3}$/.test(value) || status < 200 || status > 599) {
    throw new InvalidArgumentError('expected an HTTP status code 200..599');
  }
  return status;
}

export function registerListenCommand(program: Command): void {
  program
    .command('listen')
    .description('Run a local webhook receiver that prints deliveries and checks their signatures')
    .option('-p, --port <n>', 'port to listen on', parsePort, 4000)
    .option('--host <h>', 'address to bind', '127.0.0.1')
    .option('--secret <whsec_…>', 'endpoint secret to verify signatures with (env TRAMLINE_LISTEN_SECRET)')
    .option('--status <code>', 'HTTP status to answer with', parseStatus, 204)
    .action(async (opts: { port: number; host: string; secret?: string; status: number }) => {
      const secret = opts.secret ?? (process.env.TRAMLINE_LISTEN_SECRET || undefined);
      const listener = await startListener({ port: opts.port, host: opts.host, status: opts.status, secret });
      console.log(`Listening on ${listener.url} — point an endpoint at it`);
      if (secret === undefined) {
        console.log('Signatures are not checked: pass --secret or set TRAMLINE_LISTEN_SECRET');
      }
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await listener.close();
    });
}
