import Fastify, { type FastifyError } from 'fastify';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../errors.ts';
import { errorHandler } from './problem.ts';

/** Errors thrown by the framework or a plugin carry FST_ERR_… codes: none may reach a public problem type. */
describe('errorHandler', () => {
  const fail = (statusCode: number, code: string): FastifyError =>
    Object.assign(new Error('the framework refused'), { statusCode, code, name: 'FastifyError' });

  it.each([
    [405, 'FST_ERR_SOMETHING_NEW', 400, 'bad-request'],
    [404, 'FST_ERR_NOT_FOUND', 404, 'not-found'],
    [406, 'FST_ERR_NOT_ACCEPTABLE', 400, 'bad-request'],
    [500, 'FST_ERR_INTERNAL', 500, 'internal'],
  ])('a %i %s becomes %i %s', async (thrown, code, status, type) => {
    const app = Fastify({ logger: false });
    app.setErrorHandler(errorHandler);
    app.get('/x', async () => {
      throw fail(thrown, code);
    });
    const r = await app.inject({ method: 'GET', url: '/x' });
    const body = r.json() as { type: string; status: number; title: string };
    expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect([r.statusCode, body.status, body.type]).toEqual([status, status, `https://tramline.dev/problems/${type}`]);
    expect(Object.values(ERRORS).map((e) => e.title)).toContain(body.title);
    expect(r.body).not.toMatch(/FST_/i);
    await app.close();
  });
});
