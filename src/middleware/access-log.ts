import { performance } from 'node:perf_hooks';
import type { Request, RequestHandler, Response } from 'express';
import { pinoHttp } from 'pino-http';
import { principalOf } from '../auth/authenticate.ts';
import { pinoLoggerOf, type Logger } from '../logger.ts';

const STARTED = Symbol('access-log.started');
type Timed = Response & { [STARTED]?: number };

/**
 * One structured line per request once the response is finished (pino-http): method, path (no query
 * string: it can carry personal data), status, duration, request id and the calling key's id — never
 * the key itself, and no request or response headers. At LOG_LEVEL above info it does nothing.
 */
export function accessLog(logger: Logger): RequestHandler {
  const base = pinoLoggerOf(logger);
  if (!base.isLevelEnabled('info')) return (_req, _res, next) => next();

  const fields = (req: Request, res: Timed) => {
    const principal = principalOf(res);
    const started = res[STARTED];
    return {
      request_id: res.locals['requestId'] as unknown,
      method: req.method,
      path: req.originalUrl.split('?')[0],
      status: res.statusCode,
      duration_ms:
        started === undefined ? undefined : Math.round((performance.now() - started) * 1000) / 1000,
      ...(principal === undefined ? {} : { api_key_id: principal.keyId }),
      // The client went away before the response was complete.
      ...(res.writableEnded ? {} : { aborted: true }),
    };
  };

  const middleware = pinoHttp<Request, Timed>({
    logger: base,
    // The requestId() middleware runs first; pino-http exposes the id as req.id.
    genReqId: (_req, res) => (res.locals['requestId'] as string | undefined) ?? '',
    useLevel: 'info',
    // Requests and responses are not serialized at all: no header dumps, no query strings.
    wrapSerializers: false,
    serializers: { req: () => undefined, res: () => undefined },
    customSuccessMessage: () => 'request',
    customErrorMessage: () => 'request',
    customSuccessObject: (req, res) => fields(req, res),
    // A 5xx's cause is logged by the problem handler with the same request id; only a stream error has
    // something to add here.
    customErrorObject: (req, res, error) => {
      const synthetic = error.message === `failed with status code ${res.statusCode}`;
      return synthetic ? fields(req, res) : { ...fields(req, res), error: error.message };
    },
  });

  return (req, res, next) => {
    (res as Timed)[STARTED] = performance.now();
    middleware(req, res as Timed, next);
  };
}
