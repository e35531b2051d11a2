import path from 'node:path';
import { readGatewayRecord } from './gateway-record.ts';
import { identifyGateway } from './identify.ts';

/**
 * A small client of a gateway's /v1 API for `listen` and `trigger`. The gateway is found by `--url`,
 * TRAMLINE_URL, or the record a running gateway keeps in its data folder, and must identify itself as
 * Tramline before the API key is sent.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export interface GatewayClient {
  readonly url: string;
  request<T>(method: string, path: string, body?: unknown): Promise<T>;
}

export interface ConnectOptions {
  url?: string | undefined;
  apiKey: string;
  env?: NodeJS.ProcessEnv;
}

export function dataDirOf(env: NodeJS.ProcessEnv): string {
  return path.resolve(env.TRAMLINE_DATA_DIR || './.tramline');
}

export function gatewayUrl(opts: { url?: string | undefined; env?: NodeJS.ProcessEnv }): string {
  const env = opts.env ?? process.env;
  const given = opts.url ?? (env.TRAMLINE_URL || undefined);
  if (given) return given.replace(/\/+$/, '');
  const dataDir = dataDirOf(env);
  const record = readGatewayRecord(dataDir);
  if (!record) {
    throw new Error(
      `No running gateway found: ${path.join(dataDir, 'gateway.json')} does not exist. Start one in this folder with \`tramline dev\` (npm run dev), ` +
        'or pass --url (or TRAMLINE_URL) for a gateway elsewhere.',
    );
  }
  return record.url;
}

export async function connectGateway(opts: ConnectOptions): Promise<GatewayClient> {
  const gw = await identifyGateway(gatewayUrl(opts));
  return {
    url: gw.url,
    async request<T>(method: string, p: string, body?: unknown): Promise<T> {
      let res: Response;
      try {
        res = await fetch(`${gw.url}${p}`, {
          method,
          redirect: 'error',
          headers: { authorization: `Bearer ${opts.apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(30_000),
        });
      } catch (err) {
        throw new Error(`${method} ${gw.url}${p} failed: ${(err as Error).message}`);
      }
      const text = await res.text();
      if (!res.ok) {
        let detail = text;
        try {
          const problem = JSON.parse(text) as { title?: string; detail?: string };
          detail = problem.detail ?? problem.title ?? text;
        } catch {
          /* not JSON: the raw text */
        }
        throw new ApiError(res.status, `${method} ${p} answered ${res.status}: ${detail}`);
      }
      return (text ? JSON.parse(text) : undefined) as T;
    },
  };
}
