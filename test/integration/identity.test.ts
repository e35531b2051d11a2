import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IDENTITY_PATH, operatorProof } from '../../src/api/routes/identity.ts';
import { OPERATOR_TOKEN, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

describe('gateway identity', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(() => gw.stop());

  it('names the service without any credential', async () => {
    const r = await fetch(gw.url + IDENTITY_PATH);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ service: 'tramline', version: expect.any(String) });
  });

  it('proves it knows the operator token for a fresh challenge, and the proof differs per challenge', async () => {
    const a = randomBytes(16).toString('base64url');
    const b = randomBytes(16).toString('base64url');
    const ra = (await (await fetch(`${gw.url}${IDENTITY_PATH}?challenge=${a}`)).json()) as { operatorProof: string };
    const rb = (await (await fetch(`${gw.url}${IDENTITY_PATH}?challenge=${b}`)).json()) as { operatorProof: string };
    expect(ra.operatorProof).toBe(operatorProof(OPERATOR_TOKEN, a));
    expect(rb.operatorProof).toBe(operatorProof(OPERATOR_TOKEN, b));
    expect(ra.operatorProof).not.toBe(rb.operatorProof);
    expect(ra.operatorProof).not.toBe(operatorProof('another-operator-token-0123456789', a));
  });

  it('refuses a malformed challenge with a problem document', async () => {
    const r = await fetch(`${gw.url}${IDENTITY_PATH}?challenge=short`);
    expect(r.status).toBe(400);
    expect(r.headers.get('content-type')).toMatch(/problem\+json/);
  });
});
