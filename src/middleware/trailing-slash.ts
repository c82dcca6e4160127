import type { RequestHandler } from 'express';

/**
 * The original service registered its routes with a trailing slash (`/api/v1/processes/`) and clients
 * call both forms; the contract documents the slash-less form, so trailing slashes are removed before
 * routing and validation. A plain scan from the end: linear in the path length whatever it holds.
 */
export function stripTrailingSlash(): RequestHandler {
  return (req, _res, next) => {
    const queryAt = req.url.indexOf('?');
    const pathEnd = queryAt === -1 ? req.url.length : queryAt;
    let end = pathEnd;
    while (end > 1 && req.url.charCodeAt(end - 1) === 0x2f) end--;
    if (end !== pathEnd) req.url = req.url.slice(0, end) + req.url.slice(pathEnd);
    next();
  };
}
