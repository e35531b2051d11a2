import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Email } from '../api/schemas/dashboard.ts';
import { probeUserEmail } from './dashboard-user.ts';

describe('probe dashboard user', () => {
  it('has an email the API accepts for every consumer uid the probe accepts, on a domain that never resolves', () => {
    const uids = ['tramline-probe', 'probe.eu-1', 'a:b~c', '_x', 'x'.repeat(200)];
    for (const uid of uids) {
      const email = probeUserEmail(uid);
      expect(z.safeParse(Email, email).success, email).toBe(true);
      expect(email.endsWith('@probe.tramline.invalid')).toBe(true);
    }
    expect(probeUserEmail('tramline-probe')).toBe('tramline-probe@probe.tramline.invalid');
    expect(probeUserEmail('a:b~c')).toBe('a-b-c@probe.tramline.invalid');
  });
});
