import Fastify, { LogController, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import cookie from '@fastify/cookie';
import type { Logger } from 'pino';
import { clientErrorHandler, errorHandler, sendProblem } from './problem.ts';
import { AppError } from '../errors.ts';
import { registerAuth } from './plugins/auth.ts';
import { registerAuthFailureLimit } from './plugins/auth-failures.ts';
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
import { replayRoutes } from './routes/replays.ts';
import { messageRoutes } from './routes/messages.ts';
import { portalSessionRoutes } from './routes/portal-sessions.ts';
import { healthRoutes } from './routes/health.ts';
import { identityRoutes } from './routes/identity.ts';
import { docsRoutes } from './routes/docs.ts';
import { openapiOptions } from './openapi.ts';
import { useFieldMessages } from './schemas/messages.ts';
import { sessionRoutes } from './routes/sessions.ts';
import { userRoutes } from './routes/users.ts';
import { passwordResetRoutes } from './routes/password-resets.ts';
import { statsRoutes } from './routes/stats.ts';
import { settingsRoutes } from './routes/settings.ts';
import { webRoutes } from './routes/web.ts';
import type { Api, ApiDeps } from './types.ts';
import { VERSION } from '../boot/version.ts';
import { registerHttpTelemetry } from '../telemetry/http-telemetry.ts';
import { bindLogContext } from './plugins/log-context.ts';
import { registerJsonParser, requestIdOf } from './plugins/request-body.ts';
import { registerLingeringClose } from './plugins/lingering-close.ts';
import { registerClosingAnswer } from './plugins/closing.ts';
import { registerDrain } from './plugins/drain.ts';

/**
 * Idle keep-alive connections are closed by the proxy, never by the gateway: nginx (upstream
 * keepalive_timeout 60 s), ingress-nginx and AWS load balancers (60 s) all time out before 75 s, so a proxy
 * never sends a request on a connection the gateway has just closed (which would fail a POST it cannot retry).
 */
export const KEEP_ALIVE_TIMEOUT_MS = 75_000;
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Builds the HTTP API; never listens (the entry point does), so tests use inject() or port 0.
 * Longer than 80 lines on purpose: the order of the hooks and plugins is the security model (security
 * headers before anything, the address brake before auth, auth before rate limits, cookies before auth),
 * and it reads best as one list from top to bottom.
 */
export async function buildApp(deps: ApiDeps, logger: Logger): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: deps.maxPayloadBytes,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Behind nginx or an ingress, the client's address comes from X-Forwarded-For (TRAMLINE_TRUST_PROXY).
    // (A hop count is documented by Fastify but missing from its types.)
    trustProxy: deps.trustProxy as boolean | string[],
    // A request reaching the API once it is closing: our 503 problem document with Retry-After (plugins/closing.ts).
    return503OnClosing: false,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // Slowloris: a request whose headers and body have not all arrived by the deadline is answered 408 and closed
    // (Fastify's default is no deadline, and Node's header deadline is 60 s checked every 30 s). Checked each second.
    requestTimeout: deps.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
    http: { headersTimeout: deps.requestTimeoutMs ?? REQUEST_TIMEOUT_MS, connectionsCheckingInterval: 1_000 },
    // On close (SIGTERM, after the drain delay): idle keep-alive connections are closed at once, those with a
    // request in flight once it is answered; a request arriving meanwhile is answered 503 + Retry-After + Connection: close.
    forceCloseConnections: 'idle',
    requestIdHeader: false,
    genReqId: requestIdOf,
    // Path ids and uids are Ref (≤ 256 characters); the router's default of 100 made longer uids unaddressable.
    routerOptions: { maxParamLength: 256 },
    // Errors the router answers before any route (undecodable URL, over-long parameter): problem+json too.
    frameworkErrors: (err, _req, reply) =>
      err.code === 'FST_ERR_MAX_PARAM_LENGTH'
        ? sendProblem(reply, 'URI_TOO_LONG', 'A path parameter is longer than 256 characters')
        : err.code === 'FST_ERR_BAD_URL'
          ? sendProblem(reply, 'BAD_URL', 'The path contains an invalid percent-encoding')
          : sendProblem(reply, 'INTERNAL'),
    // Errors of Node's HTTP parser (headers too large, malformed request): problem+json as well.
    clientErrorHandler,
    // One line per request, written by our onResponse hook with the route (not the raw URL) and tenant.
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<ZodTypeProvider>() as unknown as Api;

  // JSON only: without this, Fastify's built-in text/plain parser hands a string to the validators (400, not 415).
  (app as unknown as FastifyInstance).removeContentTypeParser('text/plain');
  registerJsonParser(app as unknown as FastifyInstance, deps.maxPayloadBytes);
  // Validation messages that say what was expected ("required (expected string)"), for every schema.
  useFieldMessages();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) => sendProblem(reply, 'NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}`));

  // Closing: 503 + Retry-After before any other hook runs.
  registerClosingAnswer(app as unknown as FastifyInstance);
  // An answer sent with the body unread (413 from content-length) reaches the client before the socket closes.
  registerLingeringClose(app as unknown as FastifyInstance);
  if (deps.draining) registerDrain(app as unknown as FastifyInstance, deps.draining);

  // Security headers on every answer, CORS for the allowlisted origins only (before any route).
  await registerHardening(app as unknown as FastifyInstance, { corsOrigins: deps.corsOrigins });

  // The OpenAPI document (src/api/openapi.ts) and the reference that reads it at /docs.
  await app.register(swagger, openapiOptions({ version: VERSION, serverUrl: deps.portal.publicUrl }));

  // Parses Cookie before the auth hook reads the dashboard's session cookie.
  await app.register(cookie);

  registerAuthFailureLimit(app as unknown as FastifyInstance, deps.authFailures);
  registerAuth(app as unknown as FastifyInstance, deps.keys, deps.operatorToken, deps);
  registerAudit(app as unknown as FastifyInstance, deps);
  // After auth: the limits are counted per authenticated key and tenant.
  await registerRateLimits(app as unknown as FastifyInstance, deps.rateLimits);
  app.addHook('onRequest', async (req) => {
    // Bodies are read as UTF-8; a body that says it is in another charset would be silently misread.
    const charset = /;\s*charset="?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
    if (charset && charset !== 'utf-8' && charset !== 'utf8')
      throw new AppError('UNSUPPORTED_MEDIA_TYPE', 'Send application/json in UTF-8');
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
  registerHttpTelemetry(app as unknown as FastifyInstance, deps.metrics, deps.errors, deps.metricsToken);

  app.get('/openapi.json', { schema: { hide: true } }, async () => {
    const doc = app.swagger() as { servers?: unknown };
    // Without a configured public URL, the server is this one (a relative URL), never the request's Host header.
    return deps.portal.publicUrl
      ? doc
      : { ...doc, servers: [{ url: '/', description: 'This gateway (set TRAMLINE_PUBLIC_URL to name it)' }] };
  });
  docsRoutes(app as unknown as FastifyInstance, { openapiUrl: '/openapi.json' });
  healthRoutes(app, deps);
  identityRoutes(app, deps);
  tenantRoutes(app, deps);
  apiKeyRoutes(app, deps);
  eventTypeRoutes(app, deps);
  consumerRoutes(app, deps);
  endpointRoutes(app, deps);
  replayRoutes(app, deps);
  messageRoutes(app, deps);
  portalSessionRoutes(app, deps);
  auditLogRoutes(app, deps);
  // The dashboard (issue 9): sign-in and sessions, users.
  sessionRoutes(app, deps);
  userRoutes(app, deps);
  passwordResetRoutes(app, deps);
  statsRoutes(app, deps);
  settingsRoutes(app, deps);
  await webRoutes(app as unknown as FastifyInstance, deps);
  return app as unknown as FastifyInstance;
}
