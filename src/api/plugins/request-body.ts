import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors.ts';

/**
 * JSON bodies must be UTF-8. Decoded as a string first, invalid bytes would become U+FFFD and a
 * payload would be stored as something its sender never sent; refused here (400) instead. The rest
 * is Fastify's own parser (prototype-poisoning checks included).
 */
export function registerJsonParser(app: FastifyInstance, bodyLimit: number): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit }, (req, body, done) => {
    const bytes = body as Buffer;
    if (!isUtf8(bytes)) {
      done(
        new AppError('VALIDATION', 'The body is not valid UTF-8', {
          errors: [{ field: 'body', message: 'contains bytes that are not valid UTF-8' }],
        }),
        undefined,
      );
      return;
    }
    parse(req, bytes.toString('utf8'), done);
  });
}

const REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/**
 * A caller's `x-request-id` is kept when it is one short token (it ends up in logs and the audit
 * log); anything else (thousands of characters, a header sent twice, control characters) gets an id of ours.
 */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}
