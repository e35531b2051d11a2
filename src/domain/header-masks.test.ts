import { describe, expect, it } from 'vitest';
import { AppError } from '../errors.ts';
import type { Principal, Scope } from './api-keys.ts';
import { HEADER_MASK, headerViewOf, maskHeaders, mergeSealedHeaders, refuseMasks, unmaskedHeaders } from './header-masks.ts';
import { roleScopes } from './users.ts';

const key = (scopes: Scope[]): Principal => ({
  kind: 'tenant',
  tenantId: 'ten_1',
  keyId: 'key_1',
  scopes,
});
const session = (role: 'owner' | 'developer' | 'viewer'): Principal => ({
  kind: 'tenant',
  tenantId: 'ten_1',
  keyId: 'ses_1',
  scopes: roleScopes(role),
  session: { id: 'ses_1', userId: 'usr_1', role },
});

describe('headerViewOf', () => {
  it('shows values to admin keys and owner or developer sessions only', () => {
    expect(headerViewOf(key(['admin']))).toBe('values');
    expect(headerViewOf(session('owner'))).toBe('values');
    expect(headerViewOf(session('developer'))).toBe('values');
    expect(headerViewOf(key(['read']))).toBe('masked');
    expect(headerViewOf(key(['publish', 'read']))).toBe('masked');
    expect(headerViewOf(session('viewer'))).toBe('masked');
    expect(headerViewOf({ kind: 'portal', tenantId: 'ten_1', consumerId: 'con_1' })).toBe('masked');
    expect(headerViewOf({ kind: 'operator' })).toBe('masked');
    expect(headerViewOf(null)).toBe('masked');
  });
});

describe('the mask', () => {
  it('can never be a real header value (those are printable ASCII)', () => {
    expect(/^[\x20-\x7e\t]*$/.test(HEADER_MASK)).toBe(false);
  });

  it('replaces every value and keeps every name', () => {
    expect(maskHeaders({ authorization: 'Bearer x', 'x-team': 'a' })).toEqual({ authorization: HEADER_MASK, 'x-team': HEADER_MASK });
    expect(maskHeaders({})).toEqual({});
  });

  it('is refused on a new endpoint, naming the header', () => {
    expect(() => refuseMasks({ 'x-ok': 'v' })).not.toThrow();
    const err = (() => {
      try {
        refuseMasks({ 'x-ok': 'v', authorization: HEADER_MASK });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).errors).toEqual([{ field: 'body.headers.authorization', message: expect.stringContaining(HEADER_MASK) }]);
  });
});

describe('mergeSealedHeaders', () => {
  const current = { authorization: 'sealed-auth', 'x-team': 'sealed-team' };

  it('keeps the stored ciphertext for masked names, takes new values for the others, drops names not sent', () => {
    const sent = { authorization: HEADER_MASK, 'x-new': 'plain' };
    expect(unmaskedHeaders(sent)).toEqual({ 'x-new': 'plain' });
    expect(mergeSealedHeaders(sent, { 'x-new': 'sealed-new' }, current)).toEqual({ authorization: 'sealed-auth', 'x-new': 'sealed-new' });
  });

  it('refuses a mask for a name that has no stored value', () => {
    expect(() => mergeSealedHeaders({ 'x-unknown': HEADER_MASK }, {}, current)).toThrow(/x-unknown/);
  });
});
