/**
 * Regenerates src/generated/openapi.ts (the SDK's types) from the gateway's OpenAPI document.
 *
 *   npm run generate                 # starts a gateway in-process (embedded PGlite, in memory), reads /openapi.json
 *   npm run generate -- --from f.json  # reads a saved document instead
 *
 * The document is also saved as openapi.json beside package.json, so a change in the API shows up as a
 * diff of the document next to the diff of the types. Run from the repository (it imports the gateway's
 * sources); the published package ships only dist/.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderTypes, type Json } from './render.ts';

const SDK = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SAVED = path.join(SDK, 'openapi.json');
const OUT = path.join(SDK, 'src', 'generated', 'openapi.ts');

/** The served document, from a gateway started in this process on a throw-away in-memory database. */
async function fromGateway(): Promise<Json> {
  const root = path.resolve(SDK, '..');
  const { loadConfig } = await import(path.join(root, 'src/config.ts'));
  const { startGateway } = await import(path.join(root, 'src/main.ts'));
  const { openPglite } = await import(path.join(root, 'src/store/db.ts'));
  const pino = (await import('pino')).default;
  const config = loadConfig({
    TRAMLINE_MASTER_KEY: Buffer.alloc(32, 0x5a).toString('base64'),
    TRAMLINE_OPERATOR_TOKEN: 'generate-operator-token-0123456789abcdef',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'silent',
  });
  const db = await openPglite({ dataDir: 'memory://' });
  const gateway = await startGateway(config, 'api', pino({ level: 'silent' }), { db });
  try {
    const res = await fetch(`${gateway.url}/openapi.json`);
    if (!res.ok) throw new Error(`GET /openapi.json answered ${res.status}`);
    // The document names the gateway it came from (a random port here): saved as the default local URL.
    return JSON.parse((await res.text()).replaceAll(gateway.url, 'http://localhost:8080')) as Json;
  } finally {
    await gateway.stop();
    await db.close();
  }
}

const args = process.argv.slice(2);
const from = args.includes('--from') ? args[args.indexOf('--from') + 1] : undefined;
const doc = from ? (JSON.parse(fs.readFileSync(from, 'utf8')) as Json) : await fromGateway();
if (!from) fs.writeFileSync(SAVED, `${JSON.stringify(doc, null, 2)}\n`);
const { source, droppedRefs } = await renderTypes(doc);
if (droppedRefs) process.stderr.write(`generate: ${droppedRefs} $ref(s) to undefined schemas replaced by unconstrained schemas\n`);
fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(OUT, source);
process.stdout.write(`generate: wrote ${path.relative(process.cwd(), OUT)} (${fs.statSync(OUT).size} bytes)\n`);
process.exit(0);
