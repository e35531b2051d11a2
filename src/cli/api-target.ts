// Where the CLI's API commands send the key: the `--profile` given, else TRAMLINE_API_KEY with TRAMLINE_URL
// (default http://localhost:8080), else TRAMLINE_PROFILE or the default profile of ~/.config/tramline/profiles.json
// (written 0600 by `tramline profiles add`). Before any key leaves this process, the target must answer
// GET /.well-known/tramline with service "tramline": a mistyped or hostile URL never sees the credential.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { identifyGateway, Tramline, TramlineError } from '../../sdk/src/index.ts';

export const DEFAULT_URL = 'http://localhost:8080';

// --- profiles ---

export interface Profile {
  url: string;
  apiKey: string;
}

export interface ProfilesFile {
  default?: string;
  profiles: Record<string, Profile>;
}

export function profilesPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'tramline', 'profiles.json');
}

export function readProfiles(file = profilesPath()): ProfilesFile {
  if (!fs.existsSync(file)) return { profiles: {} };
  const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<ProfilesFile>;
  return { ...(parsed.default ? { default: parsed.default } : {}), profiles: parsed.profiles ?? {} };
}

/** Written 0600 in a 0700 folder: the file holds API keys. */
export function writeProfiles(data: ProfilesFile, file = profilesPath()): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}

export const mask = (key: string): string => (key.length > 12 ? `${key.slice(0, 8)}…${key.slice(-4)}` : '…');

// --- where to connect ---

export interface ConnOpts {
  profile?: string;
  url?: string;
  json?: boolean;
}

export function target(opts: ConnOpts, env: NodeJS.ProcessEnv = process.env): Profile {
  if (opts.profile) {
    const p = readProfiles().profiles[opts.profile];
    if (!p) throw new Error(`No profile "${opts.profile}" in ${profilesPath()} (add one with \`tramline profiles add\`)`);
    return { url: opts.url ?? p.url, apiKey: p.apiKey };
  }
  if (env.TRAMLINE_API_KEY) return { url: opts.url ?? env.TRAMLINE_URL ?? DEFAULT_URL, apiKey: env.TRAMLINE_API_KEY };
  const file = readProfiles();
  const name = env.TRAMLINE_PROFILE ?? file.default;
  const p = name ? file.profiles[name] : undefined;
  if (name && !p) throw new Error(`No profile "${name}" in ${profilesPath()}`);
  if (p) return { url: opts.url ?? p.url, apiKey: p.apiKey };
  throw new Error(
    'No API key: set TRAMLINE_API_KEY (and TRAMLINE_URL), or add a profile with `tramline profiles add <name> --url <url> --api-key <key>`',
  );
}

/** Refuses unless `url` identifies as a Tramline gateway; sends no credential. */
export async function checkGateway(url: string): Promise<void> {
  try {
    await identifyGateway(url, { timeoutMs: 10_000 });
  } catch (err) {
    const why = err instanceof TramlineError ? (err.detail ?? err.message) : (err as Error).message;
    throw new Error(`Refusing to send the API key to ${url}: it does not identify as a Tramline gateway (${why})`);
  }
}

export async function connect(opts: ConnOpts): Promise<Tramline> {
  const t = target(opts);
  await checkGateway(t.url);
  return new Tramline({ apiKey: t.apiKey, baseUrl: t.url });
}
