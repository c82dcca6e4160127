/**
 * createApp: the middleware order and the routes. Never listens, never reads the environment.
 */
import express, { type Express, type RequestHandler } from 'express';
import * as OpenApiValidator from 'express-openapi-validator';
import { RequestContext } from '@mikro-orm/core';
import { authenticate } from './auth/authenticate.ts';
import type { Container } from './container.ts';
import { listOperations, loadBundledSpec, type OpenApiDocument } from './contract.ts';
import { notFoundHandler, problemHandler } from './errors/problem-handler.ts';
import { accessLog } from './middleware/access-log.ts';
import { cors } from './middleware/cors.ts';
import { headAsGet } from './middleware/head-as-get.ts';
import { requestId } from './middleware/request-id.ts';
import { securityHeaders } from './middleware/security-headers.ts';
import { stripTrailingSlash } from './middleware/trailing-slash.ts';
import { docsRouter } from './routes/docs/docs.router.ts';
import { createHandlers } from './routes/index.ts';
import { isLenientTimestamp } from './util/timestamps.ts';

export function createApp(container: Container, spec: OpenApiDocument = loadBundledSpec()): Express {
  const { config, logger, orm } = container;
  const routes = listOperations(spec);
  const handlers = createHandlers(container);

  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'extended');
  app.set('trust proxy', config.trustProxy);
  app.use(requestId());
  app.use(accessLog(logger));
  app.use(securityHeaders());
  app.use(stripTrailingSlash());
  app.use(headAsGet());
  app.use(cors(config.corsOrigins));
  app.use(docsRouter(spec));
  app.use((_req, _res, next) => RequestContext.create(orm.em, next));
  // Authenticate before reading the body: an anonymous caller cannot make the server parse 10 MB.
  app.use(
    authenticate({
      routes,
      apiKeys: container.apiKeys,
      recordUsage: (keyId) => container.apiKeyUsage.record(keyId),
      em: container.em,
      logger,
    }),
  );
  app.use(express.json({ limit: config.bodyLimitBytes, type: ['application/json', 'application/*+json'] }));
  app.use(
    OpenApiValidator.middleware({
      // The validator resolves and annotates the document it is given: hand it its own copy.
      apiSpec: structuredClone(spec) as never,
      // Every problem of a request is reported at once (REQUIREMENTS §7); the schemas are our own, so the
      // validation cost stays bounded by the body limit.
      validateRequests: { allowUnknownQueryParameters: true, coerceTypes: true, allErrors: true },
      validateResponses:
        config.validateResponses === 'off'
          ? false
          : config.validateResponses === 'log'
            ? {
                onError: (error, body, req) =>
                  logger.error('response broke the contract', { path: req.path, error: error.message, body }),
              }
            : true,
      validateSecurity: false,
      validateFormats: true,
      ajvFormats: { mode: 'full' },
      formats: { 'date-time': { type: 'string', validate: isLenientTimestamp } },
      $refParser: { mode: 'dereference' },
    }),
  );
  for (const route of routes) {
    app[route.method](route.expressPath, handlers[route.operationId] as unknown as RequestHandler);
  }
  app.use(notFoundHandler);
  app.use(problemHandler(logger));
  return app;
}
