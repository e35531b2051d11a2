// The probe's settings as given on the command line, checked before anything starts.

export interface HostPort {
  host: string;
  port: number;
}

export interface ProbeOptions {
  url: string;
  token: string;
  consumer: string;
  /** Where the receiver listens. */
  listen: HostPort;
  /** Base URL the gateway delivers to; defaults to the receiver's own address. */
  publicUrl: string | undefined;
  once: boolean;
  intervalMs: number;
  timeoutMs: number;
  json: boolean;
  /** Where loop mode serves /metrics. */
  metricsListen: HostPort;
  /** Push to this Pushgateway instead of serving /metrics. */
  pushgateway: string | undefined;
  /** null: the browser step is switched off. */
  chromiumPath: string | null;
}

/** `host:port`, `:port` (all interfaces) or `[v6]:port`. */
export function parseHostPort(text: string): HostPort {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new Error(`expected host:port (e.g. 0.0.0.0:8081, [::]:8081, :8081), got "${text}"`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

export function parseHttpUrl(text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new Error(`expected an http:// or https:// URL, got "${text}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`expected an http:// or https:// URL, got "${text}"`);
  return text.replace(/\/+$/, '');
}
