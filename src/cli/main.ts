import { Command, Option } from 'commander';
import { ConfigError, loadConfig, type Role } from '../config.ts';
import { createLogger } from '../logger.ts';
import { VERSION } from '../version.ts';
import { registerListenCommand } from './listen.ts';
import { registerProbeCommand } from './probe.ts';
import { runStart } from './start.ts';
import { runMigrate } from './migrate.ts';
import { runTenantsCreate } from './tenants.ts';
import { runKeysGenerate, runKeysRotate } from './keys.ts';
import { runBackup, runRestore } from './backup.ts';

/** The `tramline` command: parses arguments, then calls the same functions the tests call. */
const program = new Command('tramline').description('Tramline: a self-hostable event gateway').version(VERSION, '-v, --version');

program
  .command('start')
  .description('Start the gateway (API, delivery worker and scheduler, or one of them)')
  .addOption(new Option('--role <role>', 'which role(s) this process runs').choices(['api', 'worker', 'scheduler', 'all']).default('all'))
  .action(async (opts: { role: Role }) => runStart(config(), opts.role, createLogger(config().logLevel)));

program
  .command('migrate')
  .description('Apply database migrations (start does this too)')
  .action(async () => runMigrate(config()));

program
  .command('tenants')
  .description('Tenant administration')
  .command('create')
  .argument('<name>', 'the tenant name')
  .description('Create a tenant and print its admin API key (shown once)')
  .action(async (name: string) => runTenantsCreate(config(), name));

const keys = program.command('keys').description('Master keys that protect secrets at rest');
keys
  .command('generate')
  .description('Print a new master key entry for TRAMLINE_MASTER_KEY')
  .option('--version <n>', 'the key version', '1')
  .action((opts: { version: string }) => runKeysGenerate(Number(opts.version)));
keys
  .command('rotate')
  .description("Rewrap every tenant's data key with the current master key version")
  .action(async () => runKeysRotate(config()));

registerListenCommand(program);

program
  .command('backup')
  .argument('<dest>', 'a folder, or s3://bucket/prefix')
  .description('Write a consistent, compressed snapshot of the database (or of one tenant) to a folder or an S3 bucket')
  .option('--tenant <id>', 'back up this tenant only (to move it to another instance)')
  .action(async (dest: string, opts: { tenant?: string }) => runBackup(config(), dest, opts));

program
  .command('restore')
  .argument('<src>', 'a backup folder, or s3://bucket/prefix')
  .description('Restore a backup into an empty database (a one-tenant backup: into one without that tenant); needs the same master key')
  .action(async (src: string) => runRestore(config(), src));
registerProbeCommand(program);

program
  .command('version')
  .description('Print the version')
  .action(() => {
    process.stdout.write(`tramline ${VERSION}\n`);
  });

let cached: ReturnType<typeof loadConfig> | undefined;
function config(): ReturnType<typeof loadConfig> {
  cached ??= loadConfig(process.env);
  return cached;
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError ? err.message : `tramline: ${(err as Error).message}`}\n`);
  process.exit(1);
}
