import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ port: 8080, host: '0.0.0.0', databaseUrl: undefined, logLevel: 'info', maxPayloadBytes: 1024 * 1024 });
    expect(c.delivery.timeoutMs).toBe(15_000);
    expect(c.delivery.leaseMs).toBeGreaterThan(c.delivery.timeoutMs);
    expect(c.retryScheduleMs).toHaveLength(8);
    expect(c.egressAllow).toHaveLength(0);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('parses every variable', () => {
    const c = loadConfig({
      PORT: '9000',
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgres://u@h:5432/d',
      TRAMLINE_OPERATOR_TOKEN: 'x'.repeat(20),
      TRAMLINE_EGRESS_ALLOW: '127.0.0.0/8, ::1/128',
      TRAMLINE_RETRY_SCHEDULE: '0s,1s,1s',
      LOG_LEVEL: 'debug',
      TRAMLINE_DELIVERY_TIMEOUT: '2s',
    });
    expect(c).toMatchObject({ port: 9000, host: '127.0.0.1', databaseUrl: 'postgres://u@h:5432/d', logLevel: 'debug' });
    expect(c.retryScheduleMs).toEqual([0, 1000, 1000]);
    expect(c.egressAllow).toHaveLength(2);
    expect(c.delivery.leaseMs).toBe(7_000);
  });

  it('names the variable that is wrong', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ TRAMLINE_RETRY_SCHEDULE: '1 minute' })).toThrow(/TRAMLINE_RETRY_SCHEDULE/);
    expect(() => loadConfig({ TRAMLINE_EGRESS_ALLOW: '10.0.0.0/99' })).toThrow(/TRAMLINE_EGRESS_ALLOW/);
    expect(() => loadConfig({ TRAMLINE_OPERATOR_TOKEN: 'short' })).toThrow(ConfigError);
    expect(() => loadConfig({ TRAMLINE_DELIVERY_TIMEOUT: 'soon' })).toThrow(/TRAMLINE_DELIVERY_TIMEOUT/);
  });
});

describe('loadConfig: abuse limits, Redis and CORS', () => {
  it('limits no tenant by default (plans are the operator’s, per tenant), and has no Redis or CORS origin', () => {
    const c = loadConfig({});
    expect(c.rateLimit).toEqual({ perKey: 0, perTenant: 0, windowMs: 1000 });
    expect(c.outboundPerTenantPerSecond).toBe(2000);
    expect([c.redisUrl, c.redisPrefix, c.corsOrigins]).toEqual([undefined, 'tramline:', []]);
  });

  it('parses the variables and names a wrong one', () => {
    const c = loadConfig({
      REDIS_URL: 'redis://127.0.0.1:6379/2',
      TRAMLINE_RATE_LIMIT_PER_KEY: '5',
      TRAMLINE_RATE_LIMIT_PER_TENANT: '8',
      TRAMLINE_RATE_LIMIT_WINDOW: '30s',
      TRAMLINE_OUTBOUND_PER_TENANT: '5',
      TRAMLINE_CORS_ORIGINS: 'https://app.example.com, http://localhost:5173/',
    });
    expect(c.rateLimit).toEqual({ perKey: 5, perTenant: 8, windowMs: 30_000 });
    expect(c.corsOrigins).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379/2');
    expect(loadConfig({ REDIS_URL: '' }).redisUrl).toBeUndefined();
    expect(() => loadConfig({ REDIS_URL: 'localhost:6379' })).toThrow(/REDIS_URL/);
    expect(() => loadConfig({ TRAMLINE_RATE_LIMIT_PER_KEY: '-1' })).toThrow(/TRAMLINE_RATE_LIMIT_PER_KEY/);
    expect(() => loadConfig({ TRAMLINE_OUTBOUND_PER_TENANT: 'lots' })).toThrow(/TRAMLINE_OUTBOUND_PER_TENANT/);
    expect(() => loadConfig({ TRAMLINE_CORS_ORIGINS: '*' })).toThrow(/TRAMLINE_CORS_ORIGINS/);
    expect(() => loadConfig({ TRAMLINE_CORS_ORIGINS: 'https://app.example.com/path' })).toThrow(/TRAMLINE_CORS_ORIGINS/);
  });
});

describe('loadConfig: public URL', () => {
  it('is unset by default, drops a trailing slash, and refuses a non-http URL', () => {
    expect(loadConfig({}).publicUrl).toBeUndefined();
    expect(loadConfig({ TRAMLINE_PUBLIC_URL: 'https://hooks.example.com/' }).publicUrl).toBe('https://hooks.example.com');
    expect(loadConfig({ TRAMLINE_PUBLIC_URL: 'http://localhost:8080/base' }).publicUrl).toBe('http://localhost:8080/base');
    expect(() => loadConfig({ TRAMLINE_PUBLIC_URL: 'not a url' })).toThrow(/TRAMLINE_PUBLIC_URL/);
    expect(() => loadConfig({ TRAMLINE_PUBLIC_URL: 'ftp://hooks.example.com' })).toThrow(/TRAMLINE_PUBLIC_URL/);
  });
});
