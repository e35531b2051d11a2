// `tramline probe`: a synthetic check of a live deployment (the logic is in src/probe/).
import { InvalidArgumentError, Option, type Command } from 'commander';
import { parseDuration } from '../domain/durations.ts';
import { parseHostPort, parseHttpUrl, type ProbeOptions } from '../probe/options.ts';

const arg =
  <T>(parse: (v: string) => T) =>
  (v: string): T => {
    try {
      return parse(v);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };

const positiveDuration = arg((v) => {
  const ms = parseDuration(v);
  if (ms < 1) throw new Error('must be more than 0');
  return ms;
});

/** Parsed like the value given, but `--help` shows the default as written (not as a JSON object). */
const hostPortOption = (flags: string, description: string, fallback: string): Option =>
  new Option(flags, description).argParser(arg(parseHostPort)).default(parseHostPort(fallback), fallback);

interface Flags {
  url: string;
  token?: string;
  consumer: string;
  listen: ReturnType<typeof parseHostPort>;
  publicUrl?: string;
  once?: boolean;
  interval: number;
  timeout: number;
  json?: boolean;
  metricsListen: ReturnType<typeof parseHostPort>;
  pushgateway?: string;
  browser: boolean;
}

/** In loop mode a stop waits for the run in progress; a run is bounded, but a second signal or this long ends it at once. */
const STOP_GRACE_MS = 10_000;

export function registerProbeCommand(program: Command): void {
  program
    .command('probe')
    .description(
      'Synthetic check: publish to a probe endpoint served here, await the signed delivery, read it back, and find it in the dashboard (Chromium)',
    )
    .requiredOption('--url <url>', 'the gateway base URL', arg(parseHttpUrl))
    .option('--token <key>', 'a tenant API key with the admin scope (env TRAMLINE_PROBE_TOKEN)')
    .option('--consumer <uid>', "uid of the probe's consumer on the tenant (one per probe instance)", 'tramline-probe')
    .addOption(hostPortOption('--listen <host:port>', 'where the probe receives webhooks', '127.0.0.1:0'))
    .option('--public-url <url>', 'the receiver as the gateway reaches it (default: the --listen address)', arg(parseHttpUrl))
    .option('--once', 'run once, print the summary and exit (0: every step passed)')
    .addOption(
      new Option('--interval <duration>', 'loop mode: time between runs').argParser(positiveDuration).default(parseDuration('60s'), '60s'),
    )
    .addOption(new Option('--timeout <duration>', 'limit for each step').argParser(positiveDuration).default(parseDuration('30s'), '30s'))
    .option('--json', 'print each run as one JSON line')
    .addOption(hostPortOption('--metrics-listen <host:port>', 'loop mode: where /metrics is served', '0.0.0.0:9465'))
    .option('--pushgateway <url>', 'push the metrics to this Prometheus Pushgateway instead of serving them', arg(parseHttpUrl))
    .option('--no-browser', 'skip the browser step')
    .action(async (f: Flags) => {
      const token = f.token ?? process.env.TRAMLINE_PROBE_TOKEN;
      if (!token) throw new Error('probe: pass --token or set TRAMLINE_PROBE_TOKEN');
      if (!/^[A-Za-z0-9_.:~-]{1,256}$/.test(f.consumer))
        throw new Error('probe: --consumer may contain letters, digits and _ . : ~ - only');
      const o: ProbeOptions = {
        url: f.url,
        token,
        consumer: f.consumer,
        listen: f.listen,
        publicUrl: f.publicUrl,
        once: f.once === true,
        intervalMs: f.interval,
        timeoutMs: f.timeout,
        json: f.json === true,
        metricsListen: f.metricsListen,
        pushgateway: f.pushgateway,
        chromiumPath: f.browser ? process.env.CHROMIUM_PATH || '/usr/bin/chromium' : null,
      };
      const { probeLoop, probeOnce } = await import('../probe/service.ts');
      if (o.once) process.exit(await probeOnce(o));
      const stop = new Promise<void>((resolve) => {
        let signals = 0;
        const onSignal = (): void => {
          if (++signals > 1) process.exit(0);
          setTimeout(() => process.exit(0), STOP_GRACE_MS).unref();
          resolve();
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
      await probeLoop(o, stop);
      process.exit(0);
    });
}
