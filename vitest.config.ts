import { defineConfig } from 'vitest/config';

// Unit tests sit beside the code; integration suites run once per database engine:
// always on embedded PGlite, and on a Postgres server when DATABASE_URL is set. Suites that start the
// CLI (`node bin/tramline.js`, which runs dist/) build dist/ first when it is stale (test/build-once.ts).
const integration = (db: 'pglite' | 'postgres') => ({
  extends: true as const,
  test: {
    name: `integration-${db}`,
    include: ['test/integration/**/*.test.ts'],
    env: { TEST_DB: db },
    globalSetup: ['test/build-once.ts', 'test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

export default defineConfig({
  test: {
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['src/**/*.test.ts'] } },
      integration('pglite'),
      // The OpenAPI document against independent validators, a generated client, and contract fuzzing of every operation.
      {
        extends: true,
        test: {
          name: 'contract',
          include: ['test/contract/**/*.test.ts'],
          env: { TEST_DB: 'pglite' },
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      // deploy/: promtool on the Prometheus rules, checks of the Grafana dashboards (no database).
      { extends: true, test: { name: 'monitoring', include: ['test/monitoring/**/*.test.ts'], testTimeout: 180_000 } },
      // npm run lint (format, lint, layer rules) in a temporary copy of src/: passes formatted, fails on each planted violation.
      { extends: true, test: { name: 'tooling', include: ['test/tooling/**/*.test.ts'], testTimeout: 300_000, hookTimeout: 300_000 } },
      // Deployment files: Dockerfile, compose, nginx, Kubernetes overlays, CI pipelines, the AWS CDK package (test/deploy).
      { extends: true, test: { name: 'deploy', include: ['test/deploy/**/*.test.ts'], testTimeout: 600_000, hookTimeout: 600_000 } },
      // bench/run.ts --smoke: every benchmark scenario for seconds, on PGlite (and Postgres when DATABASE_URL is set).
      {
        extends: true,
        test: { name: 'bench-smoke', include: ['test/bench/**/*.test.ts'], globalSetup: ['test/build-once.ts'], testTimeout: 300_000 },
      },
      // The chaos suite's short version (test/chaos; `npm run test:chaos` is the full one): fleets of real processes
      // on Postgres under faults. One scenario at a time: each starts its own fleet.
      {
        extends: true,
        test: {
          name: 'chaos',
          include: ['test/chaos/**/*.test.ts'],
          globalSetup: ['test/build-once.ts'],
          fileParallelism: false,
          testTimeout: 240_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'sdk',
          include: ['sdk/test/**/*.test.ts'],
          env: { TEST_DB: 'pglite' },
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
      // Browser end-to-end (web/): real gateway on PGlite serving dist/web, real receiver, Debian's Chromium.
      // One file at a time: each starts a gateway and a browser.
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          env: { TEST_DB: 'pglite' },
          globalSetup: ['test/e2e/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
      ...(process.env.DATABASE_URL ? [integration('postgres')] : []),
    ],
  },
});
