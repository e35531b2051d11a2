import { EnvSchema } from './config.ts';

/**
 * docs/configuration.md is generated from the config schema's descriptions and defaults
 * (`npm run docs:config`); config-docs.test.ts fails when a setting is missing from it or it is stale.
 */
export interface SettingDoc {
  name: string;
  default: string | undefined;
  description: string;
}

type Def = { type?: string; defaultValue?: unknown; in?: unknown; innerType?: unknown };
const defOf = (s: unknown): Def | undefined => (s as { _zod?: { def?: Def } })?._zod?.def;

function defaultOf(schema: unknown): unknown {
  const def = defOf(schema);
  if (!def) return undefined;
  if (def.type === 'default') return typeof def.defaultValue === 'function' ? (def.defaultValue as () => unknown)() : def.defaultValue;
  if (def.type === 'pipe') return defaultOf(def.in);
  if (def.innerType) return defaultOf(def.innerType);
  return undefined;
}

export function settings(): SettingDoc[] {
  return Object.entries(EnvSchema.shape).map(([name, schema]) => {
    const d = defaultOf(schema);
    return { name, default: d === undefined ? undefined : String(d), description: (schema as { description?: string }).description ?? '' };
  });
}

/** Variables read outside the gateway's schema: by the CLI, the telemetry entry point, or the AWS SDK. */
export const OTHER_SETTINGS: ReadonlyArray<{ name: string; by: string; description: string }> = [
  {
    name: 'TRAMLINE_API_KEY',
    by: 'tramline listen, trigger',
    description: 'The tenant API key when `--api-key` is not given (keeps it out of `ps`).',
  },
  {
    name: 'TRAMLINE_URL',
    by: 'tramline listen, trigger',
    description:
      "The gateway's base URL when `--url` is not given; unset: the gateway running from this folder (`$TRAMLINE_DATA_DIR/gateway.json`).",
  },
  { name: 'TRAMLINE_LISTEN_SECRET', by: 'tramline listen', description: 'The endpoint secret (`whsec_…`) when `--secret` is not given.' },
  { name: 'TRAMLINE_PROBE_TOKEN', by: 'tramline probe', description: 'Its tenant API key (admin scope) when `--token` is not given.' },
  { name: 'CHROMIUM_PATH', by: 'tramline probe', description: "Chromium for the probe's browser step (default `/usr/bin/chromium`)." },
  {
    name: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    by: 'every process',
    description:
      'An OTLP/HTTP collector: traces are exported when set (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`); unset, tracing costs nothing. The standard `OTEL_*` variables apply (`OTEL_SERVICE_NAME`, `OTEL_TRACES_SAMPLER`, …).',
  },
  { name: 'SENTRY_DEBUG', by: 'every process', description: "`true` prints the Sentry SDK's own diagnostics." },
  {
    name: 'AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE',
    by: 'backup, restore',
    description: "The AWS SDK's credential chain for S3 (or an instance or pod role).",
  },
];

const cell = (s: string): string => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

export function configurationMarkdown(): string {
  const rows = settings().map(
    (s) =>
      `| \`${s.name}\` | ${s.default === undefined ? 'unset' : s.default === '' ? 'empty' : `\`${s.default}\``} | ${cell(s.description)} |`,
  );
  const other = OTHER_SETTINGS.map((s) => `| \`${s.name}\` | ${s.by} | ${cell(s.description)} |`);
  return [
    '# Configuration reference',
    '',
    '<!-- Generated from the schema in src/config.ts by `npm run docs:config`: edit the descriptions there, not this file. -->',
    '',
    'Tramline reads its configuration from the environment once, at start, and refuses to start when a value',
    'is invalid (the message names the variable). `tramline start` reads only the environment; every other',
    'command, `tramline dev` included, also reads `.env` in the current folder when there is one (variables',
    'already set win). [`.env.example`](../.env.example) is a commented starting point.',
    '',
    'Durations are written `500ms`, `15s`, `5m`, `2h`, `1d`. `tramline dev` changes three defaults, and only when',
    'they are unset: `TRAMLINE_EGRESS_ALLOW=127.0.0.0/8,::1/128`, `HOST=127.0.0.1`, `LOG_LEVEL=warn`.',
    '',
    '## The gateway',
    '',
    '| variable | default | what |',
    '|---|---|---|',
    ...rows,
    '',
    '## Read elsewhere',
    '',
    '| variable | read by | what |',
    '|---|---|---|',
    ...other,
    '',
  ].join('\n');
}
