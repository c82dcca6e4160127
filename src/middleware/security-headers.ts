import type { RequestHandler } from 'express';

const API_CSP = "default-src 'none'; frame-ancestors 'none'";
/** The docs pages load only their own scripts, styles and images (no CDN). */
const DOCS_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; frame-ancestors 'none'";

/** Baseline hardening headers on every response. */
export function securityHeaders(): RequestHandler {
  return (req, res, next) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
    const docs = req.path.startsWith('/docs') || req.path.startsWith('/redoc');
    res.setHeader('Content-Security-Policy', docs ? DOCS_CSP : API_CSP);
    next();
  };
}
