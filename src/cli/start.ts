import net from 'node:net';
import type { Logger } from 'pino';
import type { Config, Role } from '../config.ts';
import { startGateway } from '../main.ts';
import { operatorTokenFile } from '../boot/operator-token.ts';
import { flushProcessTelemetry, processErrorReporter } from '../telemetry/process.ts';
import { VERSION } from '../boot/version.ts';
import { explainDatabaseError } from './db-errors.ts';
import { localUrl, removeGatewayRecord, writeGatewayRecord } from './gateway-record.ts';

export interface StartOptions {
  /** `tramline dev`: print a banner with the URL, the token's whereabouts and the next command. */
  dev?: boolean;
}

/** Runs until SIGTERM/SIGINT, then drains and exits 0. */
export async function runStart(config: Config, role: Role, log: Logger, opts: StartOptions = {}): Promise<void> {
  let gateway: Awaited<ReturnType<typeof startGateway>>;
  try {
    // Before seconds of database start-up: a taken port is the most common first failure.
    if (role === 'api' || role === 'all') await checkPortFree(config.port, config.host);
    gateway = await startGateway(config, role, log, { errors: processErrorReporter() });
  } catch (err) {
    throw explainStartError(err, config);
  }
  // Where this gateway listens, for CLI commands run against the same data folder (see gateway-record.ts).
  const url = gateway.url ? localUrl(gateway.url) : null;
  if (url) {
    writeGatewayRecord(config.dataDir, { pid: process.pid, url });
    process.once('exit', () => removeGatewayRecord(config.dataDir));
  }
  if (url && opts.dev) process.stdout.write(devBanner(config, url));
  else if (url && process.stderr.isTTY) process.stderr.write(`Tramline ${VERSION} listening on ${url} (API reference: ${url}/docs)\n`);

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++signals > 1) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    log.info({ signal }, 'shutting down');
    gateway.stop().then(
      // Spans and error events still buffered are sent before the process goes.
      () => flushProcessTelemetry().finally(() => process.exit(0)),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        processErrorReporter().capture(err, { component: 'shutdown' });
        void flushProcessTelemetry().finally(() => process.exit(1));
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/** Binds and releases host:port; rejects (EADDRINUSE, EACCES) when the gateway could not listen there. */
async function checkPortFree(port: number, host: string): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** Start-up failures a first-time user meets, rewritten to name the setting that fixes them. */
export function explainStartError(err: unknown, config: Config): unknown {
  const e = err as NodeJS.ErrnoException & { port?: number };
  if (e?.code === 'EADDRINUSE') {
    const next = config.port === 0 ? 8081 : config.port + 1;
    return new Error(
      `Port ${config.port} on ${config.host} is already in use (another gateway, or another program). ` +
        `Set PORT to a free port, e.g. PORT=${next} npm run dev (or put PORT=${next} in .env).`,
    );
  }
  if (e?.code === 'EACCES' && config.port < 1024) {
    return new Error(`Port ${config.port} needs privileges to bind. Set PORT to a port above 1023, e.g. PORT=8080.`);
  }
  return explainDatabaseError(err, config.databaseUrl);
}

function devBanner(config: Config, url: string): string {
  const token = config.operatorToken
    ? 'TRAMLINE_OPERATOR_TOKEN (from your environment)'
    : config.databaseUrl
      ? 'not set: set TRAMLINE_OPERATOR_TOKEN to administer tenants'
      : `${operatorTokenFile(config.dataDir)}  (cat it; never share it)`;
  const allow = config.egressAllow.map(([ip, bits]) => `${ip.toString()}/${bits}`).join(', ') || 'none';
  return [
    '',
    `Tramline ${VERSION} is running in development mode`,
    `  API             ${url}`,
    `  API reference   ${url}/docs`,
    `  Operator token  ${token}`,
    `  Egress allowed  ${allow} (TRAMLINE_EGRESS_ALLOW; development only)`,
    `  Data            ${config.databaseUrl ? 'DATABASE_URL' : config.dataDir}`,
    '',
    "Next, in this folder (the README's tour):",
    '  TRAMLINE_API_KEY=$(./bin/tramline.js tenants create Acme --quiet); export TRAMLINE_API_KEY',
    '  ./bin/tramline.js listen --port 4000 --consumer globex &',
    '  ./bin/tramline.js trigger invoice.paid --consumer globex --wait',
    '',
    '',
  ].join('\n');
}
