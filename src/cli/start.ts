import type { Logger } from 'pino';
import type { Config, Role } from '../config.ts';
import { startGateway } from '../main.ts';

/** Runs until SIGTERM/SIGINT, then drains and exits 0. */
export async function runStart(config: Config, role: Role, log: Logger): Promise<void> {
  const gateway = await startGateway(config, role, log);
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++signals > 1) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    log.info({ signal }, 'shutting down');
    gateway.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
