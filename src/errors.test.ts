import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppError, codeForStatus, ERRORS, type ErrorCode, problemType } from './errors.ts';

/** The rows of docs/problems.md's table: type URL, status, title. */
function documented(): Array<{ type: string; status: number; title: string }> {
  const text = fs.readFileSync(new URL('../docs/problems.md', import.meta.url), 'utf8');
  return [...text.matchAll(/^\| `(https:\/\/tramline\.dev\/problems\/[^`]+)` \| (\d{3}) \| ([^|]+?) \| [^|]+ \|$/gm)].map((m) => ({
    type: m[1]!,
    status: Number(m[2]),
    title: m[3]!,
  }));
}

describe('error registry', () => {
  const codes = Object.keys(ERRORS) as ErrorCode[];

  it('has this many codes: a new one is added to docs/problems.md and counted here', () => {
    expect(codes).toHaveLength(19);
  });

  it('gives every code a 4xx/5xx status and a distinct title and type', () => {
    const titles = Object.values(ERRORS).map((e) => e.title);
    expect(new Set(titles).size).toBe(titles.length);
    expect(new Set(codes.map(problemType)).size).toBe(codes.length);
    for (const e of Object.values(ERRORS)) expect(e.status).toBeGreaterThanOrEqual(400);
  });

  it('is exactly the list of docs/problems.md: same types, statuses and titles, each once', () => {
    const docs = documented();
    expect(new Set(docs.map((d) => d.type)).size).toBe(docs.length);
    expect(docs.map((d) => d.type).sort()).toEqual(codes.map(problemType).sort());
    for (const code of codes) {
      expect(
        docs.find((d) => d.type === problemType(code)),
        code,
      ).toEqual({ type: problemType(code), status: ERRORS[code].status, title: ERRORS[code].title });
    }
  });

  it('maps a framework status to a registry code, never to the framework’s own', () => {
    expect(codeForStatus(404)).toBe('NOT_FOUND');
    expect(codeForStatus(400)).toBe('BAD_REQUEST');
    expect(codeForStatus(405)).toBe('BAD_REQUEST');
    expect(codeForStatus(502)).toBe('INTERNAL');
  });

  it('carries code, status and field errors', () => {
    const e = new AppError('VALIDATION', 'bad', { errors: [{ field: 'body.x', message: 'wrong' }] });
    expect([e.code, e.status, e.message, e.errors?.[0]?.field]).toEqual(['VALIDATION', 400, 'bad', 'body.x']);
  });
});
