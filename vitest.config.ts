import { defineConfig } from 'vitest/config';

// Unit tests sit beside the code; integration suites run once per database engine:
// always on embedded PGlite, and on a Postgres server when DATABASE_URL is set.
const integration = (db: 'pglite' | 'postgres') => ({
  extends: true as const,
  test: {
    name: `integration-${db}`,
    include: ['test/integration/**/*.test.ts'],
    env: { TEST_DB: db },
    globalSetup: ['test/global-setup.ts'],
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
      // deploy/: promtool on the Prometheus rules, checks of the Grafana dashboards (no database).
      { extends: true, test: { name: 'monitoring', include: ['test/monitoring/**/*.test.ts'], testTimeout: 180_000 } },
      // bench/run.ts --smoke: every benchmark scenario for seconds, on PGlite (and Postgres when DATABASE_URL is set).
      { extends: true, test: { name: 'bench-smoke', include: ['test/bench/**/*.test.ts'], testTimeout: 300_000 } },
      ...(process.env.DATABASE_URL ? [integration('postgres')] : []),
    ],
  },
});
