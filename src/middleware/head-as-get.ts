import type { RequestHandler } from 'express';

/**
 * HEAD is GET without a body (RFC 9110), and monitors probe `/health` with it. The contract lists only GET,
 * so HEAD requests are routed and validated as GET; Node's response already knows the request was HEAD
 * and sends no body.
 */
export function headAsGet(): RequestHandler {
  return (req, _res, next) => {
    if (req.method === 'HEAD') req.method = 'GET';
    next();
  };
}
