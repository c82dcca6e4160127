import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/app.ts';

/** helmet's headers on API and docs responses (the docs pages' own test loads their assets). */
describe('security headers (helmet)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  const baseline = {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'strict-transport-security': 'max-age=31536000; includeSubDomains',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'x-permitted-cross-domain-policies': 'none',
    'x-dns-prefetch-control': 'off',
  };

  it.each([
    ['/', 200],
    ['/api/v1/auth/verify', 401],
    ['/api/v1/no-such-thing', 404],
  ])('%s (%i) carries the baseline and the API policy', async (path, status) => {
    const response = await fetch(server.baseUrl + path);
    expect(response.status).toBe(status);
    for (const [name, value] of Object.entries(baseline))
      expect(response.headers.get(name), name).toBe(value);
    expect(response.headers.get('content-security-policy')).toBe(
      "default-src 'none'; frame-ancestors 'none'",
    );
    expect(response.headers.get('x-powered-by')).toBeNull();
    // helmet 8 leaves it off; nothing served here needs cross-origin isolation.
    expect(response.headers.get('cross-origin-embedder-policy')).toBeNull();
  });

  it.each(['/docs', '/docs/init.js', '/redoc', '/redoc/init.js'])(
    '%s carries the baseline and the docs policy',
    async (path) => {
      const response = await fetch(server.baseUrl + path);
      expect(response.status).toBe(200);
      for (const [name, value] of Object.entries(baseline))
        expect(response.headers.get(name), name).toBe(value);
      expect(response.headers.get('content-security-policy')).toBe(
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; worker-src 'self' blob:; frame-ancestors 'none'",
      );
      expect(response.headers.get('cross-origin-embedder-policy')).toBeNull();
    },
  );
});
