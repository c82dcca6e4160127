import type { RequestHandler } from 'express';

const ALLOWED_HEADERS = 'X-API-Key, Authorization, Content-Type, X-Request-ID, X-User, X-Action';
const EXPOSED_HEADERS =
  'Link, X-Total-Count, X-Page, X-Page-Size, X-Total-Pages, X-Request-ID, Retry-After, WWW-Authenticate';
const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE';

/**
 * CORS for the explicit allow-list of `CORS_ORIGINS` (`*` allows any origin). Preflights are answered
 * here, before authentication: browsers send them without the API key. A request from an origin not on
 * the list gets no CORS headers, so the browser withholds the response from the page.
 */
export function cors(allowedOrigins: readonly string[]): RequestHandler {
  const anyOrigin = allowedOrigins.includes('*');
  const allowed = new Set(allowedOrigins);
  return (req, res, next) => {
    const origin = req.get('origin');
    if (origin === undefined) {
      next();
      return;
    }
    res.vary('Origin');
    const permitted = anyOrigin || allowed.has(origin);
    if (permitted) {
      res.setHeader('Access-Control-Allow-Origin', anyOrigin ? '*' : origin);
      res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    }
    if (req.method === 'OPTIONS' && req.get('access-control-request-method') !== undefined) {
      if (permitted) {
        res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS);
        res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
        res.setHeader('Access-Control-Max-Age', '600');
      }
      res.status(204).end();
      return;
    }
    next();
  };
}
