// `tramline listen` and `tramline trigger`: the development loop of a webhook receiver (like
// `stripe listen` / `stripe trigger`). Only argument parsing here; the work is imported when a command runs.
import { InvalidArgumentError, type Command } from 'commander';
import type { ListenFlags, TriggerFlags } from './listen-run.ts';

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError('expected a port number 0..65535');
  return port;
}

function parseStatus(value: string): number {
  const status = Number(value);
  if (!/^\d{3}$/.test(value) || status < 200 || status > 599) {
    throw new InvalidArgumentError('expected an HTTP status code 200..599');
  }
  return status;
}

function parseSeconds(value: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('expected a number of seconds (1..99999)');
  return Number(value);
}

function parseJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new InvalidArgumentError(`not JSON: ${(err as Error).message}`);
  }
}

export function registerListenCommand(program: Command, beforeAction: () => void = () => {}): void {
  program
    .command('listen')
    .description(
      'Run a local webhook receiver that prints deliveries, verifies their signatures (400 when wrong) and can forward them to your app',
    )
    .option('-p, --port <n>', 'port to listen on', parsePort, 4000)
    .option('--host <h>', 'address to bind', '127.0.0.1')
    .option('--secret <whsec_…>', 'endpoint secret to verify signatures with (env TRAMLINE_LISTEN_SECRET)')
    .option('--status <code>', 'HTTP status to answer verified webhooks with', parseStatus, 204)
    .option('--forward-to <url>', 'forward each verified webhook to this local URL and answer with its status')
    .option('--consumer <uid>', 'create a temporary endpoint pointing here for this consumer (created if missing); removed on exit')
    .option('--api-key <key>', 'tenant API key with the admin scope, for --consumer (env TRAMLINE_API_KEY)')
    .option('--event-types <list>', 'with --consumer: the event types the temporary endpoint subscribes to (comma-separated; default all)')
    .option('--url <url>', 'the gateway, for --consumer (default: the one running from this folder, or TRAMLINE_URL)')
    .action(async (opts: ListenFlags) => {
      beforeAction();
      const { runListen } = await import('./listen-run.ts');
      await runListen(opts);
    });
}

export function registerTriggerCommand(program: Command, beforeAction: () => void = () => {}): void {
  program
    .command('trigger')
    .argument('<eventType>', 'the event type, e.g. invoice.paid')
    .description("Publish a sample event to a consumer (the payload from the event type's catalog example or schema, unless --payload)")
    .requiredOption('--consumer <uid>', 'the consumer (id or uid) to publish to')
    .option('--payload <json>', 'the payload instead of the sample', parseJson)
    .option('--event-id <id>', 'idempotency id (default: a fresh one)')
    .option('--api-key <key>', 'tenant API key with the publish scope (env TRAMLINE_API_KEY)')
    .option('--url <url>', 'the gateway (default: the one running from this folder, or TRAMLINE_URL)')
    .option('--wait', 'wait until every delivery succeeded (exit 0) or failed (exit 1), and print them')
    .option('--timeout <seconds>', 'with --wait: how long', parseSeconds, 30)
    .action(async (eventType: string, opts: TriggerFlags) => {
      beforeAction();
      const { runTrigger } = await import('./listen-run.ts');
      process.exitCode = await runTrigger(eventType, opts);
    });
}
