import { describe, expect, it } from 'vitest';
import { AppError, ERRORS } from './errors.ts';

describe('error registry', () => {
  it('gives every code a 4xx/5xx status and a distinct title', () => {
    const titles = Object.values(ERRORS).map((e) => e.title);
    expect(new Set(titles).size).toBe(titles.length);
    for (const e of Object.values(ERRORS)) expect(e.status).toBeGreaterThanOrEqual(400);
  });

  it('carries code, status and field errors', () => {
    const e = new AppError('VALIDATION', 'bad', { errors: [{ field: 'body.x', message: 'wrong' }] });
    expect([e.code, e.status, e.message, e.errors?.[0]?.field]).toEqual(['VALIDATION', 400, 'bad', 'body.x']);
  });
});
