/**
 * Layers (DESIGN.md, "Dependencies point inward"): api/, delivery/, cli/ and scheduler/ call domain/;
 * domain/ calls store/; nothing points back up, and there are no cycles. boot/ and main.ts compose the
 * layers; only the CLI's `start` command (and tests) import the gateway's entry point.
 * `npm run lint` runs this; test/lint/checks.test.ts plants violations to show that it fails.
 */
const OUTER = '^src/(api|delivery|cli|scheduler|probe|boot)/|^src/main\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'An import cycle: modules that cannot be understood, loaded or tested one without the other.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'store-is-the-bottom',
      comment: 'store/ is SQL over the database: it never imports the layers above it (domain, api, delivery, cli…).',
      severity: 'error',
      from: { path: '^src/store/' },
      to: { path: `${OUTER}|^src/domain/|^src/telemetry/` },
    },
    {
      name: 'domain-knows-no-web',
      comment: 'domain/ holds the use-cases: no HTTP framework, no API, delivery, CLI or process wiring.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { path: `${OUTER}|^node_modules/(fastify|@fastify)/` },
    },
    {
      name: 'api-calls-domain',
      comment: 'The API reaches the data through domain/ (never store/ directly), and knows nothing of delivery or the CLI.',
      severity: 'error',
      from: { path: '^src/api/' },
      to: { path: '^src/(store|delivery|cli|scheduler|probe|boot/(deps|closers))/?|^src/main\\.ts$' },
    },
    {
      name: 'delivery-stays-out-of-the-api',
      severity: 'error',
      from: { path: '^src/(delivery|scheduler)/' },
      to: { path: '^src/(api|cli|probe)/|^src/main\\.ts$' },
    },
    {
      name: 'delivery-writes-through-domain',
      comment: 'The worker claims and completes through the queue; disabling an endpoint and auditing it is domain/delivery-outcomes.ts.',
      severity: 'error',
      from: { path: '^src/(delivery|scheduler)/' },
      to: { path: '^src/store/(audit-log|endpoints)\\.ts$' },
    },
    {
      name: 'cli-opens-through-the-builder',
      comment: 'CLI commands open the database through boot/deps.ts (one builder), never store/ directly.',
      severity: 'error',
      from: { path: '^src/cli/' },
      to: { path: '^src/store/' },
    },
    {
      name: 'one-entry-point',
      comment: 'main.ts starts the gateway; only `tramline start` imports it (the CLI builds its own dependencies with boot/deps.ts).',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/start\\.ts$' },
      to: { path: '^src/main\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
