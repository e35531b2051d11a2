import type { Logger } from 'pino';
import type { Config, Role } from '../config.ts';
import { startGateway } from '../main.ts';
import { flushProcessTelemetry, processErrorReporter } from '../telemetry/process.ts';

/** Runs until SIGTERM/SIGINT, then drains and exits 0. */
export async function runStart(config: Config, role: Role, log: Logger): Promise<void> {
  const gateway = await startGateway(config, role, log, { errors: processErrorReporter() });
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
