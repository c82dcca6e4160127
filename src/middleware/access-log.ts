import type { RequestHandler } from 'express';
import type { Logger } from '../logger.ts';
import { principalOf } from '../auth/authenticate.ts';

/**
 * One structured line per request once the response is sent: method, path (no query string: it can
 * carry personal data), status, duration, request id and the calling key's id — never the key itself.
 */
export function accessLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const principal = principalOf(res);
      logger.info('request', {
        method: req.method,
        path: req.originalUrl.split('?')[0],
        status: res.statusCode,
        duration_ms: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
        request_id: res.locals['requestId'],
        ...(principal === undefined ? {} : { api_key_id: principal.keyId }),
      });
    });
    next();
  };
}
