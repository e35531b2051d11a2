import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { serializerCompiler } from 'fastify-type-provider-zod';
import { Pool } from 'undici';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CLOSING_DETAIL, registerClosingAnswer } from './closing.ts';

describe('registerClosingAnswer', () => {
  it('answers a request reaching a closing server 503 + Retry-After + problem document, on a kept-alive connection', async () => {
    const app = Fastify({ return503OnClosing: false, forceCloseConnections: 'idle' });
    registerClosingAnswer(app);
    app.setSerializerCompiler(serializerCompiler);
    app.get('/x', async () => ({ ok: true }));
    // A route whose own 503 has another shape (/readyz's): the problem document must not go through it (it was a 500).
    app.get('/ready', { schema: { response: { 503: z.object({ status: z.string() }) } } }, async () => ({ ok: true }));
    // Holds the close between its start and the closing of idle connections: the window a kept-alive client writes in.
    let release: () => void = () => {};
    const held = new Promise<void>((r) => (release = r));
    app.addHook('preClose', async () => held);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const pool = new Pool(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, { connections: 1 });
    try {
      const before = await pool.request({ method: 'GET', path: '/x' });
      expect(before.statusCode).toBe(200);
      await before.body.text();
      const closed = app.close();
      const late = await pool.request({ method: 'GET', path: '/x' });
      const body = await late.body.json();
      expect(late.statusCode).toBe(503);
      expect(late.headers['retry-after']).toMatch(/^\d+$/);
      expect(late.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(late.headers.connection).toBe('close');
      expect(body).toMatchObject({ status: 503, title: 'Service unavailable', detail: CLOSING_DETAIL });
      const ready = await pool.request({ method: 'GET', path: '/ready' });
      expect(ready.statusCode).toBe(503);
      expect(await ready.body.json()).toMatchObject({ status: 503, detail: CLOSING_DETAIL });
      release();
      await closed;
    } finally {
      release();
      await pool.close();
    }
  });
});
