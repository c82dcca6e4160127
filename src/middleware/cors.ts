import type { RequestHandler } from 'express';
import corsMiddleware, { type CorsOptions } from 'cors';

const ALLOWED_HEADERS = 'X-API-Key, Authorization, Content-Type, X-Request-ID, X-User, X-Action';
const EXPOSED_HEADERS =
  'Link, X-Total-Count, X-Page, X-Page-Size, X-Total-Pages, X-Request-ID, Retry-After, WWW-Authenticate';
const ALLOWED_METHODS = 'GET, POST, PUT, PATCH, DELETE';

/**
 * CORS for the explicit allow-list of `CORS_ORIGINS` (`*` allows any origin), with the `cors` package.
 * Preflights are answered here with 204, before authentication: browsers send them without the API key.
 * A request from an origin not on the list gets no CORS headers at all (only `Vary: Origin`), so the
 * browser withholds the response from the page.
 */
export function cors(allowedOrigins: readonly string[]): RequestHandler {
  const anyOrigin = allowedOrigins.includes('*');
  const allowed = new Set(allowedOrigins);
  const options: CorsOptions = {
    origin: anyOrigin ? '*' : (origin, callback) => callback(null, origin),
    methods: ALLOWED_METHODS,
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 600,
    optionsSuccessStatus: 204,
  };
  const preflight = corsMiddleware({ ...options, preflightContinue: false });
  // `cors` takes every OPTIONS for a preflight; one without Access-Control-Request-Method is not, and
  // goes on to routing like any other request.
  const actual = corsMiddleware({ ...options, preflightContinue: true });

  return (req, res, next) => {
    const origin = req.get('origin');
    if (origin === undefined) {
      next();
      return;
    }
    res.vary('Origin');
    const isPreflight = req.method === 'OPTIONS' && req.get('access-control-request-method') !== undefined;
    if (!anyOrigin && !allowed.has(origin)) {
      if (isPreflight) res.status(204).end();
      else next();
      return;
    }
    (isPreflight ? preflight : actual)(req, res, next);
  };
}
