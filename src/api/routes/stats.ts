import { z } from 'zod';
import { tenantStats } from '../../domain/stats.ts';
import { tenantOf } from '../plugins/auth.ts';
import { Problem } from '../schemas/common.ts';
import type { Api, ApiDeps } from '../types.ts';

const StatsQuery = z
  .object({
    from: z.string().max(64).optional().describe('ISO 8601 date-time; default: `to` − 24 h'),
    to: z.string().max(64).optional().describe('ISO 8601 date-time; default: now'),
    step: z
      .string()
      .max(16)
      .optional()
      .describe('Bucket size: 30s, 5m, 1h, 1d… (≥ 10s, ≤ 1000 buckets); default: 1m to 1d for ≤ 200 buckets'),
  })
  .strict();

const StatsOut = z.object({
  from: z.date(),
  to: z.date(),
  step: z.number().int().describe('Bucket size in seconds'),
  series: z.array(
    z.object({
      t: z.date().describe('Start of the bucket'),
      published: z.number().int(),
      delivered: z.number().int().describe('Successful attempts started in the bucket'),
      failed: z.number().int().describe('Failed attempts started in the bucket'),
      latencyP50Ms: z.number().nullable().describe('Publish → first successful attempt, median (ms)'),
      latencyP95Ms: z.number().nullable(),
      latencyP99Ms: z.number().nullable(),
    }),
  ),
  queue: z.object({ due: z.number().int(), scheduled: z.number().int(), oldestDueAgeSeconds: z.number() }),
});

export function statsRoutes(app: Api, deps: ApiDeps): void {
  app.get('/v1/stats', {
    config: { access: 'read' },
    schema: {
      tags: ['stats'],
      security: [{ apiKey: [] }, { session: [] }],
      operationId: 'getStats',
      summary: 'The tenant’s traffic by time bucket (published, delivered, failed, latency percentiles) and its queue now',
      description:
        'Read scope. `from`, `to` (ISO 8601) and `step` (a duration) choose the buckets, at most 1000; latency runs from publish to the first successful attempt.',
      querystring: StatsQuery,
      response: { 200: StatsOut, 400: Problem, 401: Problem, 403: Problem },
    },
    handler: (req) => tenantStats(deps, tenantOf(req), req.query),
  });
}
