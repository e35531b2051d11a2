import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEADER_MASK } from '../../src/domain/header-masks.ts';
import { engine } from '../helpers/db.ts';
import { createTenant, startTestGateway, type TestGateway, type TestTenant } from '../helpers/gateway.ts';
import { killAll, printChildOutputOnFailure, spawnTramline } from '../helpers/process.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { waitUntil } from '../helpers/wait.ts';

// Each command is a Node process that loads the CLI through tsx (until bin/ runs dist/): seconds each on a
// busy machine, hence the long time limits.

/**
 * `tramline consumers|endpoints|messages|event-types|profiles …` as a user runs them: `node bin/tramline.js`
 * child processes against a real gateway (in this process) and a real receiver, and against a server that
 * is not Tramline, which must never see the key.
 */
printChildOutputOnFailure();

let gw: TestGateway;
let tenant: TestTenant;
let receiver: Receiver;
let home: string;
let foreign: { url: string; seen: http.IncomingHttpHeaders[]; close(): Promise<void> };

async function startForeignServer(): Promise<typeof foreign> {
  const seen: http.IncomingHttpHeaders[] = [];
  // Answers every request with 200 JSON, like many an API would: only the identity check tells it apart.
  const server = http.createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ data: [], nextCursor: null, service: 'not-tramline', version: '1.0.0' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

beforeAll(async () => {
  if (engine() !== 'pglite') return;
  gw = await startTestGateway();
  tenant = await createTenant(gw, 'CLI Corp');
  receiver = await startReceiver(() => ({ status: 204 }));
  foreign = await startForeignServer();
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'tramline-cli-home-'));
});

afterAll(async () => {
  await killAll();
  await receiver?.close();
  await foreign?.close();
  await gw?.stop();
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

/** Runs the CLI to completion with HOME in a temporary folder. */
async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawnTramline(args, { HOME: home, XDG_CONFIG_HOME: '', ...env });
  const exit = await p.exited;
  return { code: exit.code, stdout: p.stdout(), stderr: p.stderr() };
}
const withKey = (): Record<string, string> => ({ TRAMLINE_API_KEY: tenant.key, TRAMLINE_URL: gw.url });
const json = <T = any>(r: { code: number | null; stdout: string; stderr: string }): T => {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
};

// The commands are HTTP clients: what database the gateway runs on changes nothing for them, so they
// run once, on the embedded one (each command is a process: minutes of a CI run).
describe.runIf(engine() === 'pglite')('tramline API commands', () => {
  it('creates and lists consumers, endpoints and event types; publishes, shows and resends a message', async () => {
    const consumer = json(await cli(['consumers', 'create', 'Globex', '--uid', 'globex', '--metadata', 'plan=pro', '--json'], withKey()));
    expect(consumer).toMatchObject({ name: 'Globex', uid: 'globex', metadata: { plan: 'pro' } });

    const table = await cli(['consumers', 'list'], withKey());
    expect(table.code, table.stderr).toBe(0);
    const [header, row] = table.stdout.trim().split('\n');
    expect(header).toMatch(/^ID\s+UID\s+NAME\s+CREATED$/);
    expect(row).toContain(consumer.id);
    expect(row).toContain('globex');

    const ep = json(
      await cli(['endpoints', 'create', 'globex', `${receiver.url}/hooks`, '--event-types', 'invoice.paid', '--json'], withKey()),
    );
    expect(ep).toMatchObject({ url: `${receiver.url}/hooks`, eventTypes: ['invoice.paid'] });

    const msg = json(
      await cli(
        ['messages', 'publish', 'globex', 'invoice.paid', '--payload', '{"invoice":"inv_9"}', '--event-id', 'inv_9.paid', '--json'],
        withKey(),
      ),
    );
    expect(msg).toMatchObject({ eventId: 'inv_9.paid', eventType: 'invoice.paid' });
    await receiver.waitFor(1);
    expect(JSON.parse(receiver.received[0]!.body)).toMatchObject({ type: 'invoice.paid', data: { invoice: 'inv_9' } });
    await waitUntil(
      async () => (await tenant.api.get(`/v1/consumers/globex/messages/${msg.id}`)).body.deliveries[0]?.state === 'succeeded',
    );

    const shown = await cli(['messages', 'show', 'globex', 'inv_9.paid'], withKey());
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(new RegExp(`^id\\s+${msg.id}$`, 'm'));
    expect(shown.stdout).toMatch(/DELIVERY\s+ENDPOINT\s+STATE/);
    expect(shown.stdout).toMatch(new RegExp(`${ep.id}\\s+succeeded`));

    const resent = await cli(['messages', 'resend', 'globex', msg.id, ep.id], withKey());
    expect(resent.code, resent.stderr).toBe(0);
    expect(resent.stdout).toContain(ep.id);
    await receiver.waitFor(2);
    expect(receiver.received[1]!.headers['webhook-id']).toBe(msg.id);

    const et = json(await cli(['event-types', 'create', 'invoice.paid', '--description', 'An invoice was paid', '--json'], withKey()));
    expect(et).toMatchObject({ name: 'invoice.paid', archived: false });
    const types = json<Array<{ name: string }>>(await cli(['event-types', 'list', '--json'], withKey()));
    expect(types.map((t) => t.name)).toEqual(['invoice.paid']);
    const archived = await cli(['event-types', 'archive', 'invoice.paid'], withKey());
    expect(archived.code, archived.stderr).toBe(0);
    expect(archived.stdout).toMatch(/^archived\s+true$/m);
  }, 400_000);

  it('shows an endpoint’s header names, never their values; --json prints what the key may see', async () => {
    await tenant.api.post('/v1/consumers', { name: 'Hooli', uid: 'hooli' });
    const ep = (
      await tenant.api.post('/v1/consumers/hooli/endpoints', { url: `${receiver.url}/h`, headers: { 'X-Api-Key': 'cli-secret-1' } })
    ).body;
    const human = await cli(['endpoints', 'show', 'hooli', ep.id], withKey());
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`^headers\\s+x-api-key: ${HEADER_MASK}$`, 'm'));
    expect(human.stdout).not.toContain('cli-secret-1');

    const readKey = (await tenant.api.post('/v1/api-keys', { name: 'reader', scopes: ['read'] })).body.apiKey as string;
    const asReader = json(await cli(['endpoints', 'show', 'hooli', ep.id, '--json'], { ...withKey(), TRAMLINE_API_KEY: readKey }));
    expect(asReader.headers).toEqual({ 'x-api-key': HEADER_MASK });
    const asAdmin = json(await cli(['endpoints', 'show', 'hooli', ep.id, '--json'], withKey()));
    expect(asAdmin.headers).toEqual({ 'x-api-key': 'cli-secret-1' });
  }, 200_000);

  it('prints the gateway’s problem, naming the field, and exits 1', async () => {
    const r = await cli(['consumers', 'create', ' ', '--uid', 'bad uid!'], withKey());
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\(400\)/);
    expect(r.stderr).toMatch(/^\s+body\.name: /m);
    expect(r.stderr).toMatch(/^\s+body\.uid: /m);
  }, 120_000);

  it('saves a profile (0600) after checking the gateway and the key, and uses it with --profile', async () => {
    const added = await cli(['profiles', 'add', 'work', '--url', gw.url], { TRAMLINE_API_KEY: tenant.key });
    expect(added.code, added.stderr).toBe(0);
    const file = path.join(home, '.config', 'tramline', 'profiles.json');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ default: 'work', profiles: { work: { url: gw.url, apiKey: tenant.key } } });

    const listed = json<Array<{ uid: string }>>(await cli(['consumers', 'list', '--profile', 'work', '--json']));
    expect(listed.map((c) => c.uid)).toContain('globex');
    // Without --profile or TRAMLINE_API_KEY: the default profile.
    expect(json<Array<{ uid: string }>>(await cli(['consumers', 'list', '--json'])).map((c) => c.uid)).toContain('globex');

    const badKey = await cli(['profiles', 'add', 'wrong', '--url', gw.url, '--api-key', 'tl_wrong_key_000000000000']);
    expect(badKey.code).toBe(1);
    expect(JSON.parse(fs.readFileSync(file, 'utf8')).profiles.wrong).toBeUndefined();
  }, 240_000);

  it('refuses to send the key to a server that is not a Tramline gateway', async () => {
    const viaEnv = await cli(['consumers', 'list'], { TRAMLINE_API_KEY: tenant.key, TRAMLINE_URL: foreign.url });
    expect(viaEnv.code).toBe(1);
    expect(viaEnv.stderr).toMatch(/Refusing to send the API key .* does not identify as a Tramline gateway/);

    const viaProfile = await cli(['profiles', 'add', 'evil', '--url', foreign.url, '--api-key', tenant.key]);
    expect(viaProfile.code).toBe(1);
    expect(viaProfile.stderr).toMatch(/Refusing to send the API key/);

    // It was asked who it is, and never saw a credential.
    expect(foreign.seen.length).toBeGreaterThanOrEqual(2);
    expect(foreign.seen.filter((h) => h.authorization !== undefined)).toEqual([]);
    expect(JSON.stringify(foreign.seen)).not.toContain(tenant.key);
  }, 120_000);
});
