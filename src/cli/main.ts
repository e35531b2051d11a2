import { Command, InvalidArgumentError, Option } from 'commander';
import type { Config, Role } from '../config.ts';
import { VERSION } from '../boot/version.ts';
import { registerListenCommand, registerTriggerCommand } from './listen-commands.ts';
import { registerProbeCommand } from './probe.ts';

/**
 * The `tramline` command: parses arguments, then calls the same functions the tests call.
 * Each command imports its module inside its action, so `--help` and a typo answer at once instead of
 * loading Fastify, PGlite and the AWS SDK first.
 */
const program = new Command('tramline')
  .description('Tramline: a self-hostable event gateway')
  .version(VERSION, '-v, --version', 'print the version')
  // Program options only before the command name: `keys generate --version 2` is the command's option.
  .enablePositionalOptions();

const START_SETTINGS = `
Settings (environment variables; every one is in docs/configuration.md):
  PORT                     API port (default 8080)
  HOST                     address to bind (default 0.0.0.0)
  TRAMLINE_DATA_DIR        embedded database, operator token and master key (default ./.tramline)
  DATABASE_URL             a Postgres server instead of the embedded database
  TRAMLINE_OPERATOR_TOKEN  tenant administration token (default: generated into the data folder)
  TRAMLINE_MASTER_KEY      master key for secrets at rest (tramline keys generate)
  TRAMLINE_KMS_KEYS        AWS KMS key(s) that wrap tenant data keys instead (then tramline keys rotate)
  TRAMLINE_EGRESS_ALLOW    CIDRs deliveries may reach although private or loopback (default none)
  LOG_LEVEL                fatal, error, warn, info (default), debug, trace, silent`;

program
  .command('start')
  .description('Start the gateway (API, delivery worker and scheduler, or one of them); reads only the environment')
  .addOption(new Option('--role <role>', 'which role(s) this process runs').choices(['api', 'worker', 'scheduler', 'all']).default('all'))
  .addHelpText('after', START_SETTINGS)
  .action(async (opts: { role: Role }) => {
    const [{ runStart }, { createLogger }] = await Promise.all([import('./start.ts'), import('../telemetry/logger.ts')]);
    const c = await config();
    await runStart(c, opts.role, createLogger(c.logLevel));
  });

program
  .command('dev')
  .description('Start the whole gateway for local development: reads .env, allows deliveries to loopback, prints where everything is')
  .addHelpText(
    'after',
    `${START_SETTINGS}\n\nDevelopment defaults (only when unset): TRAMLINE_EGRESS_ALLOW=127.0.0.0/8,::1/128, HOST=127.0.0.1, LOG_LEVEL=warn, TRAMLINE_PUBLIC_URL=http://localhost:$PORT.\nNever use it in production: 'tramline start' keeps loopback and private addresses refused.`,
  )
  .action(async () => {
    loadDotEnv();
    process.env.TRAMLINE_EGRESS_ALLOW ??= DEV_EGRESS_ALLOW;
    process.env.LOG_LEVEL ??= 'warn';
    // Loopback egress is allowed: keep the API off the network unless HOST says otherwise.
    process.env.HOST ??= '127.0.0.1';
    // Portal and invitation links name this gateway (never a request's Host header, see routes/portal-sessions.ts).
    process.env.TRAMLINE_PUBLIC_URL ??= `http://localhost:${process.env.PORT || '8080'}`;
    process.stdout.write(`Starting Tramline ${VERSION} (development mode)…\n`);
    const [{ runStart }, { createLogger }] = await Promise.all([import('./start.ts'), import('../telemetry/logger.ts')]);
    const c = await config();
    await runStart(c, 'all', createLogger(c.logLevel), { dev: true });
  });

program
  .command('migrate')
  .description('Apply database migrations (start does this too)')
  .action(async () => {
    loadDotEnv();
    const { runMigrate } = await import('./migrate.ts');
    await runMigrate(await config());
  });

const tenants = program.command('tenants').description('Tenant administration');
tenants
  .command('limit')
  .argument('<tenant>', 'the tenant id (ten_…)')
  .argument('<perSecond>', 'API requests per second for the whole tenant, or none for the operator’s default')
  .description("Set a tenant's plan: its API requests per second, all its keys together (over it: 429)")
  .action(async (tenant: string, perSecond: string) => {
    loadDotEnv();
    const { runTenantsLimit } = await import('./tenants.ts');
    await runTenantsLimit(await config(), tenant, perSecond);
  });
tenants
  .command('create')
  .argument('<name>', 'the tenant name')
  .description('Create a tenant and print its admin API key (shown once)')
  .option('-q, --quiet', 'print the API key only (for $(…) in scripts)')
  .action(async (name: string, opts: { quiet?: boolean }) => {
    loadDotEnv();
    const { runTenantsCreate } = await import('./tenants.ts');
    await runTenantsCreate(await config(), name, opts);
  });

const users = program.command('users').description('Dashboard users');
users
  .command('create')
  .description("Create a dashboard user (a tenant's first owner); the password comes from stdin, or is generated and printed once")
  .requiredOption('--tenant <id>', 'the tenant id (ten_…)')
  .requiredOption('--email <email>', 'the user’s email')
  .addOption(new Option('--role <role>', 'the role').choices(['owner', 'developer', 'viewer']).default('owner'))
  .action(async (opts: { tenant: string; email: string; role?: string }) => {
    loadDotEnv();
    const { runUsersCreate } = await import('./users.ts');
    await runUsersCreate(await config(), opts);
  });
users
  .command('reset-password')
  .description('Print a one-time password reset link (valid an hour) for a user who cannot sign in; no mail is sent')
  .requiredOption('--tenant <id>', 'the tenant id (ten_…)')
  .requiredOption('--email <email>', 'the user’s email')
  .action(async (opts: { tenant: string; email: string }) => {
    loadDotEnv();
    const { runUsersResetPassword } = await import('./users.ts');
    await runUsersResetPassword(await config(), opts);
  });

const keys = program.command('keys').description('Master keys that protect secrets at rest');
keys
  .command('generate')
  .description('Print a new master key entry for TRAMLINE_MASTER_KEY')
  .option('--version <n>', 'the key version', positiveInt, 1)
  .action(async (opts: { version: number }) => {
    const { runKeysGenerate } = await import('./keys.ts');
    runKeysGenerate(opts.version);
  });
keys
  .command('rotate')
  .description("Rewrap every tenant's data key with the current master key version")
  .action(async () => {
    loadDotEnv();
    const { runKeysRotate } = await import('./keys.ts');
    await runKeysRotate(await config());
  });

registerListenCommand(program, loadDotEnv);
registerTriggerCommand(program, loadDotEnv);

program
  .command('backup')
  .argument('<dest>', 'a folder, or s3://bucket/prefix')
  .description('Write a consistent, compressed snapshot of the database (or of one tenant) to a folder or an S3 bucket')
  .option('--tenant <id>', 'back up this tenant only (to move it to another instance)')
  .action(async (dest: string, opts: { tenant?: string }) => {
    loadDotEnv();
    const { runBackup } = await import('./backup.ts');
    await runBackup(await config(), dest, opts);
  });

program
  .command('restore')
  .argument('<src>', 'a backup folder, or s3://bucket/prefix')
  .description('Restore a backup into an empty database (a one-tenant backup: into one without that tenant); needs the same master key')
  .action(async (src: string) => {
    loadDotEnv();
    const { runRestore } = await import('./backup.ts');
    await runRestore(await config(), src);
  });
registerProbeCommand(program);
(await import('./api-commands.ts')).registerApiCommands(program);
(await import('./replay-command.ts')).registerReplayCommand(program);

program
  .command('version')
  .description('Print the version')
  .action(() => {
    process.stdout.write(`tramline ${VERSION}\n`);
  });

/** Loopback only: enough for a receiver on this machine, nothing of the private network. */
const DEV_EGRESS_ALLOW = '127.0.0.0/8,::1/128';

/**
 * `.env` in the current folder, for every command but `start` (production reads its environment only).
 * Variables already set win over the file.
 */
function loadDotEnv(): void {
  try {
    process.loadEnvFile('.env');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`.env: ${(err as Error).message}`);
  }
}

function positiveInt(value: string): number {
  if (!/^[1-9]\d{0,8}$/.test(value)) throw new InvalidArgumentError('expected a positive integer');
  return Number(value);
}

let cached: Config | undefined;
async function config(): Promise<Config> {
  const { loadConfig } = await import('../config.ts');
  cached ??= loadConfig(process.env);
  return cached;
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  const { ConfigError } = await import('../config.ts');
  process.stderr.write(`${err instanceof ConfigError ? err.message : `tramline: ${(err as Error).message}`}\n`);
  process.exit(1);
}
