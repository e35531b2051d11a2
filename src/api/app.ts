import Fastify, { LogController, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { clientErrorHandler, errorHandler, sendProblem } from './problem.ts';
import { AppError } from '../errors.ts';
import { registerAuth } from './plugins/auth.ts';
import { registerAudit } from './plugins/audit.ts';
import { auditLogRoutes } from './routes/audit-log.ts';
import { assertCleanInput } from './plugins/input-hygiene.ts';
import { registerRateLimits } from './plugins/rate-limit.ts';
import { registerHardening } from './plugins/http-hardening.ts';
import { tenantRoutes } from './routes/tenants.ts';
import { apiKeyRoutes } from './routes/api-keys.ts';
import { eventTypeRoutes } from './routes/event-types.ts';
import { consumerRoutes } from './routes/consumers.ts';
import { endpointRoutes } from './routes/endpoints.ts';
import { messageRoutes } from './routes/messages.ts';
import { portalSessionRoutes } from './routes/portal-sessions.ts';
import { healthRoutes } from './routes/health.ts';
import type { Api, ApiDeps } from './types.ts';
import { VERSION } from '../version.ts';
import { registerHttpTelemetry } from '../telemetry/http-telemetry.ts';
import { bindLogContext } from './plugins/log-context.ts';

/** Builds the HTTP API; never listens (the entry point does), so tests use inject() or port 0. */
export async function buildApp(deps: ApiDeps, logger: Logger): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: deps.maxPayloadBytes,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    requestIdHeader: 'x-request-id',
    // Path ids and uids are Ref (≤ 256 characters); the router's default of 100 made longer uids unaddressable.
    routerOptions: { maxParamLength: 256 },
    // Errors the router answers before any route (undecodable URL, over-long parameter): problem+json too.
    frameworkErrors: (err, _req, reply) =>
      err.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? sendProblem(reply, 414, 'URI_TOO_LONG', 'A path parameter is too long', 'A path parameter is longer than 256 characters')
        : err.code === 'FST_ERR_BAD_URL'
          ? sendProblem(reply, 400, 'BAD_URL', 'The URL is not valid', 'The path contains an invalid percent-encoding')
          : sendProblem(reply, 500, 'INTERNAL', 'Internal server error'),
    // Errors of Node's HTTP parser (headers too large, malformed request): problem+json as well.
    clientErrorHandler,
    // One line per request, written by our onResponse hook with the route (not the raw URL) and tenant.
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<ZodTypeProvider>() as unknown as Api;

  // JSON only: without this, Fastify's built-in text/plain parser hands a string to the validators (400, not 415).
  (app as unknown as FastifyInstance).removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) => sendProblem(reply, 404, 'NOT_FOUND', 'Not found', `No route ${req.method} ${req.url.split('?')[0]}`));

  // Security headers on every answer, CORS for the allowlisted origins only (before any route).
  await registerHardening(app as unknown as FastifyInstance, { corsOrigins: deps.corsOrigins });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Tramline API',
        version: VERSION,
        description: 'Publish events; Tramline commits them and delivers them, signed and retried, to your consumers’ endpoints.',
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'A tenant API key (tl_…)' },
          operator: { type: 'http', scheme: 'bearer', description: 'The operator token (TRAMLINE_OPERATOR_TOKEN)' },
        },
      },
      security: [{ apiKey: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  registerAuth(app as unknown as FastifyInstance, deps.keys, deps.operatorToken, deps);
  registerAudit(app as unknown as FastifyInstance, deps);
  // After auth: the limits are counted per authenticated key and tenant.
  await registerRateLimits(app as unknown as FastifyInstance, deps.rateLimits);
  app.addHook('onRequest', async (req) => {
    // Bodies are read as UTF-8; a body that says it is in another charset would be silently misread.
    const charset = /;\s*charset="?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
    if (charset && charset !== 'utf-8' && charset !== 'utf8') throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send application/json in UTF-8');
  });
  app.addHook('preValidation', async (req) => {
    // Named as in schema-validation errors (`querystring.limit`), so a field has one name whichever check refused it.
    assertCleanInput({ body: req.body, querystring: req.query, params: req.params });
  });
  // After auth (tenantId) and validation: the path's ids on every later line of the request.
  app.addHook('preHandler', bindLogContext);
  app.addHook('onResponse', async (req, reply) => {
    req.log.info({ method: req.method, url: req.routeOptions.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });
  // HTTP and publish metrics, GET /metrics (no auth, hidden from the OpenAPI document), 5xx to the error reporter.
  registerHttpTelemetry(app as unknown as FastifyInstance, deps.metrics, deps.errors);

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  healthRoutes(app, deps);
  tenantRoutes(app, deps);
  apiKeyRoutes(app, deps);
  eventTypeRoutes(app, deps);
  consumerRoutes(app, deps);
  endpointRoutes(app, deps);
  messageRoutes(app, deps);
  portalSessionRoutes(app, deps);
  auditLogRoutes(app, deps);
  return app as unknown as FastifyInstance;
}
