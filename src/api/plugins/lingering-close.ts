import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/**
 * Lingering close: when an answer ends the connection while the request body is still unread, read and
 * discard the rest for a bounded time and size before closing.
 *
 * Fastify refuses a body over the limit from its content-length, before reading it (413), and marks the
 * answer `Connection: close`. Node then ends the socket and destroys it as soon as the answer is flushed.
 * Closing a TCP socket with received bytes still unread makes the kernel send a reset instead of a FIN; the
 * reset discards what the client has not read yet — the 413 itself — and a client still writing its body
 * (Node's fetch and node:http) sees EPIPE or ECONNRESET instead of the answer, about half the time.
 * curl and Python happened to read first. nginx and Apache solve it the same way (`lingering_close`).
 *
 * After the answer: our FIN goes out (the client learns the connection is over), the socket keeps reading
 * and dropping what arrives, and it is destroyed when the client closes its side, when `maxBytes` more have
 * arrived, when nothing arrived for `idleMs`, or after `timeMs` in all — so a client that never stops sending
 * holds the socket for a bounded time only. Connections whose request was read completely are untouched.
 */
export interface LingeringCloseOptions {
  /** At most this long in all after the answer (nginx: lingering_time 30 s). */
  readonly timeMs?: number;
  /** At most this long without a byte from the client (nginx: lingering_timeout 5 s). */
  readonly idleMs?: number;
  /** At most this many bytes read and discarded. */
  readonly maxBytes?: number;
}

const DEFAULTS = { timeMs: 10_000, idleMs: 2_000, maxBytes: 64 * 1024 * 1024 } as const;
const lingering = new WeakSet<Socket>();

export function registerLingeringClose(app: FastifyInstance, options: LingeringCloseOptions = {}): void {
  const opts = { ...DEFAULTS, ...options };
  app.addHook('onSend', (request, _reply, payload, done) => {
    const socket = request.raw.socket as Socket | null;
    // `complete`: the whole body was received. Otherwise Node will dump the rest (a kept-alive connection
    // reads on; nothing to do) or close the socket through destroySoon() — that one is replaced.
    if (!request.raw.complete && socket && !lingering.has(socket)) {
      lingering.add(socket);
      socket.destroySoon = () => lingerThenDestroy(socket, opts);
    }
    done(null, payload);
  });
}

function lingerThenDestroy(socket: Socket, opts: Required<LingeringCloseOptions>): void {
  let received = 0;
  const destroy = (): void => {
    clearTimeout(total);
    clearTimeout(idle);
    socket.destroy();
  };
  const total = setTimeout(destroy, opts.timeMs);
  const idle = setTimeout(destroy, opts.idleMs);
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > opts.maxBytes) return destroy();
    idle.refresh();
  });
  socket.once('end', destroy);
  socket.once('close', () => {
    clearTimeout(total);
    clearTimeout(idle);
  });
  // The answer is flushed first, then the FIN; reading goes on (HTTP server sockets are half-open capable).
  socket.end();
  socket.resume();
}
