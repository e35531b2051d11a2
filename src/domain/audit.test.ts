import { describe, expect, it } from 'vitest';
import { auditAction, auditTarget } from './audit.ts';

describe('auditAction', () => {
  it('names every change, skips reads and publishing, and audits reading a secret', () => {
    expect(auditAction('POST', '/v1/consumers/:consumer/endpoints')).toBe('endpoint.create');
    expect(auditAction('DELETE', '/v1/api-keys/:apiKey')).toBe('api_key.revoke');
    expect(auditAction('GET', '/v1/consumers')).toBeNull();
    expect(auditAction('POST', '/v1/consumers/:consumer/messages')).toBeNull();
    expect(auditAction('GET', '/v1/consumers/:consumer/endpoints/:endpoint/secret')).toBe('endpoint.secret.read');
    expect(auditAction('PUT', '/v1/something/new')).toBe('PUT /v1/something/new');
  });

  it('targets the path ids and the created id', () => {
    expect(auditTarget({ consumer: 'con_1', endpoint: 'ep_2' }, null)).toBe('con_1/ep_2');
    expect(auditTarget({}, 'con_9')).toBe('con_9');
    expect(auditTarget({}, null)).toBeNull();
  });
});
