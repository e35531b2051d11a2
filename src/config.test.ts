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
