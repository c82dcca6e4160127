/**
 * createApp: the middleware order. Never listens, never reads the environment.
 *
 * Order matters for security: the one matcher (operation router) decides which operation a request
 * targets before anything else looks at it; authentication takes the required role from that operation;
 * only then is a body read (and only for operations that declare one), validated and handed to the
 * handler. A request that matches no operation never reaches authentication, a body parser or a handler.
 */
import express, { type Express } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import { authenticate } from './auth/authenticate.ts';
import type { Container } from './container.ts';
import { listOperations, loadBundledSpec, type OpenApiDocument } from './contract.ts';
import { problemHandler } from './errors/problem-handler.ts';
import { accessLog } from './middleware/access-log.ts';
import { auditTrail } from './middleware/audit-trail.ts';
import { admissionControl } from './middleware/admission.ts';
import { cors } from './middleware/cors.ts';
import { headAsGet } from './middleware/head-as-get.ts';
import { operationRouter } from './middleware/operation-router.ts';
import { limitAnonymous, limitPerKey, type RateLimitPolicy } from './middleware/rate-limit.ts';
import { requestId } from './middleware/request-id.ts';
import { securityHeaders } from './middleware/security-headers.ts';
import { stripTrailingSlash } from './middleware/trailing-slash.ts';
import { docsRouter } from './routes/docs/docs.router.ts';
import { createHandlers } from './routes/index.ts';
import { isLenientTimestamp } from './util/timestamps.ts';

/** How long a process overview waits for its turn (MAX_CONCURRENT_OVERVIEWS) before it gets 503. */
const OVERVIEW_QUEUE_TIMEOUT_MS = 10_000;

export function createApp(container: Container, spec: OpenApiDocument = loadBundledSpec()): Express {
  const { config, logger } = container;
  const router = operationRouter(
    listOperations(spec),
    createHandlers(container),
    OpenApiValidator.middleware({
      // The validator resolves and annotates the document it is given: hand it its own copy.
      apiSpec: structuredClone(spec) as never,
      // Every problem of a request is reported at once (REQUIREMENTS §7); the schemas are our own, so the
      // validation cost stays bounded by the body limit. Query and path values are coerced from their
      // text (the validator always does that); bodies are not: `"is_active": 0` is a 422, not `false`.
      validateRequests: { allowUnknownQueryParameters: true, coerceTypes: false, allErrors: true },
      validateResponses:
        config.validateResponses === 'off'
          ? false
          : config.validateResponses === 'log'
            ? {
                // Never the body: a response that drifts could carry a key or personal data.
                onError: (error, _body, req) =>
                  logger.error('response broke the contract', {
                    method: req.method,
                    path: req.path,
                    status: req.res?.statusCode,
                    operation: (req as { openapi?: { schema?: { operationId?: string } } }).openapi?.schema
                      ?.operationId,
                    error: error.message,
                  }),
              }
            : true,
      validateSecurity: false,
      validateFormats: true,
      ajvFormats: { mode: 'full' },
      formats: { 'date-time': { type: 'string', validate: isLenientTimestamp } },
      fileUploader: false,
      $refParser: { mode: 'dereference' },
    }),
  );

  const app = express();
  app.disable('x-powered-by');
  app.set('case sensitive routing', true);
  // Node's querystring, as Starlette parsed the original's: `+` is a space, a repeated name is a list of
  // any length, brackets are part of the name. (qs, the 'extended' parser, turned a name repeated more than
  // 20 times into an object, so `status` or `meta_filter` sent 21 times was refused.)
  app.set('query parser', 'simple');
  app.set('trust proxy', config.trustProxy);
  app.use(requestId());
  app.use(accessLog(logger));
  if (config.auditTrail) app.use(auditTrail(container.audit));
  app.use(securityHeaders());
  app.use(stripTrailingSlash());
  app.use(headAsGet());
  app.use(cors(config.corsOrigins));
  app.use(docsRouter(spec));
  app.use(router.resolve);
  // Process overviews take turns. One embeds 1,000 runs with their step runs (2.3 MB) and costs the event
  // loop ~50 ms at a million runs; started all at once, 16 of them left a robot's POST run waiting ~1 s.
  // A few at a time, the others waiting in arrival order and each starting on a later turn of the loop,
  // the robots' requests are served between them (README, "Overload").
  app.use(
    admissionControl({
      maxInFlight: config.maxConcurrentOverviews,
      maxQueued: config.maxQueuedOverviews,
      maxWaitMs: OVERVIEW_QUEUE_TIMEOUT_MS,
      only: new Set(['getProcessOverview']),
      refusal: 'Too many process overviews are being worked on; retry after the time in Retry-After',
    }),
  );
  app.use(
    admissionControl({
      maxInFlight: config.maxConcurrentRequests,
      maxQueued: config.maxQueuedRequests,
      maxWaitMs: config.queueTimeoutMs,
      exempt: new Set(['getHealth']),
    }),
  );
  app.use(container.requestScope);
  const store = container.rateLimitStore;
  const policy: RateLimitPolicy = {
    perKey: config.rateLimitPerKey,
    perAdminKey: config.rateLimitPerAdminKey,
    perIp: config.rateLimitPerIp,
    authFailuresPerIp: config.rateLimitAuthFailures,
  };
  if (store !== undefined) app.use(limitAnonymous(store, policy));
  app.use(
    authenticate({
      apiKeys: container.apiKeys,
      recordUsage: (keyId) => container.apiKeyUsage.record(keyId),
      em: container.em,
      logger,
    }),
  );
  if (store !== undefined) app.use(limitPerKey(store, policy));
  app.use(
    router.bodyOf(
      express.json({ limit: config.bodyLimitBytes, type: ['application/json', 'application/*+json'] }),
      config.bodyLimitBytes,
    ),
  );
  app.use(router.dropUnknownMembers);
  app.use(router.refuseNul);
  app.use(router.validate);
  app.use(router.dispatch);
  app.use(problemHandler(logger));
  return app;
}
