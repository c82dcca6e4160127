import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBundledSpec } from '../../src/contract.ts';
import { startTestServer, type TestServer } from '../support/app.ts';

describe('documentation endpoints (no key, no CDN)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('GET /openapi.json serves the bundled spec', async () => {
    const response = await fetch(`${server.baseUrl}/openapi.json`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(loadBundledSpec());
  });

  it.each([
    ['/docs', ['/docs/assets/swagger-ui-bundle.js', '/docs/assets/swagger-ui.css', '/docs/init.js']],
    ['/redoc', ['/redoc/redoc.standalone.js', '/redoc/init.js']],
  ])('GET %s is an HTML page whose every asset is served here', async (path, assets) => {
    const page = await fetch(server.baseUrl + path);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    for (const asset of assets) {
      expect(html).toContain(asset);
      const response = await fetch(server.baseUrl + asset);
      expect(response.status, asset).toBe(200);
      expect((await response.text()).length, asset).toBeGreaterThan(20);
    }
    // Inline scripts would need 'unsafe-inline'; the policy allows only this origin's scripts.
    expect(html).not.toMatch(/<script>(?!<\/script>)/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
  });

  it('sends the hardening headers on API responses', async () => {
    const response = await fetch(`${server.baseUrl}/`);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('content-security-policy')).toBe(
      "default-src 'none'; frame-ancestors 'none'",
    );
    expect(response.headers.get('x-powered-by')).toBeNull();
  });
});
