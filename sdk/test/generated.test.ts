import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../../test/helpers/gateway.ts';
import { renderTypes, type Json } from '../scripts/render.ts';

/**
 * The SDK's committed types are those of the document the gateway serves now: an API change that was not
 * followed by `npm run generate` (in sdk/) fails here, not in a user's type-checker.
 */
const SDK = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let gw: TestGateway;
beforeAll(async () => {
  gw = await startTestGateway();
});
afterAll(async () => {
  await gw?.stop();
});

describe('src/generated/openapi.ts', () => {
  it('matches the OpenAPI document the gateway serves (run `npm run generate` in sdk/ when not)', async () => {
    const served = (await (await fetch(`${gw.url}/openapi.json`)).json()) as Json;
    const { source, droppedRefs } = await renderTypes(served);
    expect(droppedRefs, 'every $ref of the served document resolves').toBe(0);
    expect(source === fs.readFileSync(path.join(SDK, 'src/generated/openapi.ts'), 'utf8'), 'the committed types are those of the served document').toBe(true);
  });
});
