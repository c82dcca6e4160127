import type { RequestHandler } from 'express';

/**
 * The original service registered its routes with a trailing slash (`/api/v1/processes/`) and clients
 * call both forms; the contract documents the slash-less form, so strip one trailing slash before routing
 * and validation.
 */
export function stripTrailingSlash(): RequestHandler {
  return (req, _res, next) => {
    const queryAt = req.url.indexOf('?');
    const path = queryAt === -1 ? req.url : req.url.slice(0, queryAt);
    if (path.length > 1 && path.endsWith('/')) {
      req.url = path.replace(/\/+$/, '') + (queryAt === -1 ? '' : req.url.slice(queryAt));
    }
    next();
  };
}
