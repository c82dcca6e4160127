import type { RequestHandler } from 'express';
import helmet from 'helmet';

const API_CSP = "default-src 'none'; frame-ancestors 'none'";
/** The docs pages load only their own scripts, styles and images (no CDN). */
const DOCS_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; frame-ancestors 'none'";

/**
 * Hardening headers on every response, with helmet: nosniff, `X-Frame-Options: DENY`, no referrer,
 * HSTS for a year with subdomains, and helmet's other defaults (Cross-Origin-Opener/Resource-Policy
 * same-origin, Origin-Agent-Cluster, X-DNS-Prefetch-Control off, X-Download-Options, X-Permitted-
 * Cross-Domain-Policies none, X-XSS-Protection 0). The Content-Security-Policy is one of two fixed
 * policies — the API's, or the docs pages' for /docs and /redoc — set here rather than by helmet's
 * builder (see the README's "why not" list).
 */
export function securityHeaders(): RequestHandler {
  const headers = helmet({
    contentSecurityPolicy: false,
    // helmet 8's default, stated: nothing served here needs cross-origin isolation.
    crossOriginEmbedderPolicy: false,
    xFrameOptions: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true, preload: false },
  });
  return (req, res, next) => {
    const docs = req.path.startsWith('/docs') || req.path.startsWith('/redoc');
    res.setHeader('Content-Security-Policy', docs ? DOCS_CSP : API_CSP);
    headers(req, res, next);
  };
}
