import cors from '@fastify/cors';
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';
import type { FastifyInstance } from 'fastify';

/**
 * Security headers (helmet) and CORS for an allowlist of browser origins.
 *
 * The Content-Security-Policy suits a JSON API and the Swagger UI page at /docs, which loads its
 * scripts and styles from /docs/static (no inline script): same-origin scripts only, inline styles
 * (Swagger UI sets style attributes), images from self and data:, no framing, no plugins. No
 * `upgrade-insecure-requests`, so the docs still load over plain http on a private network.
 *
 * The headers are the same on every response, so helmet runs once at start-up and its output is
 * set from then on (@fastify/helmet rebuilds helmet's middleware on every request).
 *
 * CORS: only the configured origins get `access-control-allow-origin` (exact match, no wildcard, no
 * credentials: keys travel in the Authorization header, never in cookies). With no origins configured,
 * the plugin is not registered and the API sends no CORS headers at all. Headers a browser client
 * needs to read are exposed (rate limits, Retry-After, idempotent replays).
 */
/** The security headers of every answer, computed once (raw parser errors write them too: see problem.ts). */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze(
  securityHeaders({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'"],
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  }),
);

export async function registerHardening(app: FastifyInstance, o: { corsOrigins: readonly string[] }): Promise<void> {
  app.addHook('onRequest', (_req, reply, done) => {
    reply.headers(SECURITY_HEADERS);
    done();
  });
  if (o.corsOrigins.length > 0) {
    const allowed = new Set(o.corsOrigins);
    await app.register(cors, {
      origin: (origin, cb) => cb(null, origin !== undefined && allowed.has(origin)),
      methods: ['GET', 'POST', 'PATCH', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key', 'x-request-id'],
      exposedHeaders: [
        'retry-after',
        'x-ratelimit-limit',
        'x-ratelimit-remaining',
        'x-ratelimit-reset',
        'idempotent-replayed',
        'x-request-id',
        'location',
      ],
      maxAge: 600,
      credentials: false,
    });
  }
}

/** The headers helmet sets with these options, captured once. */
function securityHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader() {},
  };
  let failure: unknown;
  helmet(options)({} as IncomingMessage, res as unknown as ServerResponse, (err?: unknown) => {
    failure = err;
  });
  if (failure) throw failure;
  return headers;
}
