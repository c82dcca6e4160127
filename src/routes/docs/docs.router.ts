import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import express, { type Router } from 'express';
import type { OpenApiDocument } from '../../contract.ts';

const require = createRequire(import.meta.url);
const swaggerUiDir = dirname(require.resolve('swagger-ui-dist/package.json'));
const redocBundle = join(dirname(require.resolve('redoc/package.json')), 'bundles', 'redoc.standalone.js');

const page = (title: string, head: string, body: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
${head}
</head>
<body>
${body}
</body>
</html>
`;

/**
 * `/openapi.json`, `/docs` (Swagger UI) and `/redoc`, all served from local packages: no CDN, so the docs
 * work on closed networks and under a strict Content-Security-Policy (no inline scripts).
 */
export function docsRouter(spec: OpenApiDocument): Router {
  const router = express.Router({ caseSensitive: true });
  const specJson = JSON.stringify(spec);
  const title = spec.info.title;

  router.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(specJson);
  });

  router.get('/docs', (_req, res) => {
    res
      .type('html')
      .send(
        page(
          `${title} – Swagger UI`,
          '<link rel="stylesheet" href="/docs/assets/swagger-ui.css">',
          '<div id="swagger-ui"></div>\n<script src="/docs/assets/swagger-ui-bundle.js"></script>\n<script src="/docs/init.js"></script>',
        ),
      );
  });
  // "Try it out" calls the origin the page was loaded from, whatever host name the spec's server has.
  router.get('/docs/init.js', (_req, res) => {
    res.type('application/javascript').send(`fetch('/openapi.json')
  .then((response) => response.json())
  .then((spec) => {
    spec.servers = [{ url: window.location.origin, description: 'This server' }, ...(spec.servers || [])];
    window.ui = SwaggerUIBundle({ spec, dom_id: '#swagger-ui', deepLinking: true, persistAuthorization: true });
  });
`);
  });
  router.use('/docs/assets', express.static(swaggerUiDir, { index: false, maxAge: '1d' }));

  router.get('/redoc', (_req, res) => {
    res
      .type('html')
      .send(
        page(
          `${title} – ReDoc`,
          '',
          '<div id="redoc"></div>\n<script src="/redoc/redoc.standalone.js"></script>\n<script src="/redoc/init.js"></script>',
        ),
      );
  });
  router.get('/redoc/init.js', (_req, res) => {
    res
      .type('application/javascript')
      .send("Redoc.init('/openapi.json', {}, document.getElementById('redoc'));\n");
  });
  router.get('/redoc/redoc.standalone.js', (_req, res) => {
    res.sendFile(redocBundle, { maxAge: '1d' });
  });
  return router;
}
