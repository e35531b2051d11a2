// `tramline listen`: a local webhook receiver (like `stripe listen`) that prints
// each delivery and checks its Standard Webhooks signature, for development.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isValidSecret, verify } from '../domain/signing.ts';
import { listenHttp } from '../net/http-listen.ts';

export interface ListenOptions {
  port: number;
  host?: string;
  secret?: string;
  /** Status code to answer every verified webhook with (default 204); use e.g. 500 to exercise retries. */
  status?: number;
  /** Forward each verified webhook (body and webhook-* headers) to this URL and answer with its status. */
  forwardTo?: string;
  /** false: answer 503 until `activate()` (the secret is not known yet); GET / then says ready. */
  ready?: boolean;
  out?: (line: string) => void;
  /** Clock in ms, for the printed time and the signature timestamp check. */
  now?: () => number;
}

export interface Listener {
  url: string;
  /** Starts verifying with `secret` (when given) and accepting webhooks. */
  activate(secret?: string): void;
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

/**
 * The receiver of `tramline listen`. Over 80 lines because it is one request handler, read top to bottom:
 * verify the signature, print, forward to the local app, answer with its status.
 */
export async function startListener(opts: ListenOptions): Promise<Listener> {
  const host = opts.host ?? '127.0.0.1';
  const status = opts.status ?? 204;
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const now = opts.now ?? Date.now;
  let secret = opts.secret;
  let ready = opts.ready ?? true;
  const forwardTo = opts.forwardTo;
  checkStatus(status);
  const checkSecret = (s: string | undefined): void => {
    // Reject a bad secret up front rather than printing INVALID for every webhook.
    if (s !== undefined && !isValidSecret(s)) throw new Error('Invalid --secret: expected whsec_ followed by base64 of 24..64 bytes');
  };
  checkSecret(secret);
  if (forwardTo !== undefined) checkForwardUrl(forwardTo);

  /** Prints the webhook; false when its signature is checked and wrong. */
  const report = (req: IncomingMessage, body: string): boolean => {
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
    let valid = true;
    if (secret === undefined) {
      check = 'signature not checked (no --secret)';
    } else {
      const result = verify(secret, { id, timestamp, signature }, body, Math.floor(now() / 1000));
      valid = result.ok;
      check = result.ok ? 'signature ok' : `signature INVALID: ${result.reason} (answered 400)`;
    }

    out(`--- ${new Date(now()).toISOString()}  ${req.method} ${req.url ?? '/'}`);
    out(`webhook-id:        ${id || '(missing)'}`);
    out(`webhook-timestamp: ${describeTimestamp(timestamp)}`);
    out(`type:              ${type}`);
    out(check);
    if (body === '') out('(empty body)');
    else for (const line of (isJson ? JSON.stringify(parsed, null, 2) : body).split('\n')) out(line);
    out('');
    return valid;
  };

  /** Hands a verified webhook to the local app, as the gateway sent it; its status becomes ours. */
  const forward = async (req: IncomingMessage, body: Buffer): Promise<{ status: number; body: string }> => {
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'webhook-id', 'webhook-timestamp', 'webhook-signature', 'traceparent']) {
      const v = header(req, name);
      if (v) headers[name] = v;
    }
    try {
      const res = await fetch(forwardTo!, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(15_000) });
      const text = await res.text();
      out(`forwarded to ${forwardTo}: ${res.status}`);
      return { status: res.status, body: text.slice(0, 4096) };
    } catch (err) {
      out(`forwarding to ${forwardTo} failed: ${(err as Error).message} (answered 502)`);
      return { status: 502, body: `tramline listen could not reach ${forwardTo}` };
    }
  };

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.method === 'GET' && (req.url === '/' || req.url === '')) {
      // A readiness check for scripts: 200 once the temporary endpoint exists and the secret is known.
      res
        .writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' })
        .end(ready ? 'tramline listen: ready\n' : 'tramline listen: setting up\n');
      return;
    }
    if (!ready) {
      res.writeHead(503, { 'retry-after': '1' }).end();
      return;
    }
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
      const raw = Buffer.concat(chunks);
      // A webhook that fails verification is refused (400), so the gateway records a failure, never a delivery.
      if (!report(req, raw.toString('utf8'))) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end('invalid webhook signature\n');
        return;
      }
      if (forwardTo === undefined) {
        res.writeHead(status).end();
        return;
      }
      void forward(req, raw).then((r) => res.writeHead(r.status, { 'content-type': 'text/plain' }).end(r.body));
    });
    // An aborted upload must not crash the listener.
    req.on('error', () => res.destroy());
  };

  const server = createServer(handle);
  const url = await listenHttp(server, opts.port, host);
  return {
    url,
    activate(s) {
      checkSecret(s);
      if (s !== undefined) secret = s;
      ready = true;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Senders (fetch/undici) keep connections alive; don't wait for them to time out.
        server.closeAllConnections();
      }),
  };
}

function checkForwardUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`Invalid --forward-to ${url}: expected an http:// or https:// URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new Error(`Invalid --forward-to ${url}: expected an http:// or https:// URL`);
}
