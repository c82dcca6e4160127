import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/app.ts';

describe('CORS from the CORS_ORIGINS allow-list', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ CORS_ORIGINS: '["https://dashboard.example.com"]' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers a preflight from an allowed origin without a key', async () => {
    const response = await fetch(`${server.baseUrl}/api/v1/processes`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://dashboard.example.com',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'x-api-key, content-type',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://dashboard.example.com');
    expect(response.headers.get('access-control-allow-headers')).toContain('X-API-Key');
    expect(response.headers.get('access-control-allow-methods')).toContain('PATCH');
    expect(response.headers.get('access-control-allow-methods')).toBe('GET, POST, PUT, PATCH, DELETE');
    expect(response.headers.get('access-control-allow-headers')).toBe(
      'X-API-Key, Authorization, Content-Type, X-Request-ID, X-User, X-Action',
    );
    expect(response.headers.get('access-control-max-age')).toBe('600');
    expect(response.headers.get('vary')).toContain('Origin');
  });

  it('exposes the pagination and request-id headers to an allowed origin', async () => {
    const response = await server.request('/api/v1/auth/verify', {
      headers: { Origin: 'https://dashboard.example.com' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://dashboard.example.com');
    expect(response.headers.get('access-control-expose-headers')).toContain('X-Total-Count');
    expect(response.headers.get('vary')).toContain('Origin');
  });

  it('gives an origin that is not on the list no CORS headers', async () => {
    const preflight = await fetch(`${server.baseUrl}/api/v1/processes`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example.net', 'Access-Control-Request-Method': 'GET' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(preflight.headers.get('access-control-allow-methods')).toBeNull();
    expect(preflight.headers.get('access-control-allow-headers')).toBeNull();
    expect(preflight.headers.get('access-control-max-age')).toBeNull();
    expect(preflight.headers.get('access-control-expose-headers')).toBeNull();
    const simple = await server.request('/api/v1/auth/verify', {
      headers: { Origin: 'https://evil.example.net' },
    });
    expect(simple.headers.get('access-control-allow-origin')).toBeNull();
    expect(simple.headers.get('access-control-expose-headers')).toBeNull();
    expect(simple.headers.get('vary')).toContain('Origin');
  });

  it('sends no CORS headers to a request without an Origin', async () => {
    const response = await server.request('/api/v1/auth/verify');
    expect(response.status).toBe(200);
    const corsHeaders: string[] = [];
    response.headers.forEach((_value, name) => {
      if (name.startsWith('access-control-')) corsHeaders.push(name);
    });
    expect(corsHeaders).toEqual([]);
  });

  it('does not read the body of an unauthenticated request', async () => {
    const response = await fetch(`${server.baseUrl}/api/v1/processes`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"not json',
    });
    expect(response.status).toBe(401);
  });
});

describe('CORS with CORS_ORIGINS=*', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ CORS_ORIGINS: '*' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('allows any origin with a wildcard, preflight and actual request', async () => {
    const preflight = await fetch(`${server.baseUrl}/api/v1/processes`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://anywhere.example.org', 'Access-Control-Request-Method': 'DELETE' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('DELETE');
    expect(preflight.headers.get('access-control-max-age')).toBe('600');
    const actual = await server.request('/api/v1/auth/verify', {
      headers: { Origin: 'https://anywhere.example.org' },
    });
    expect(actual.status).toBe(200);
    expect(actual.headers.get('access-control-allow-origin')).toBe('*');
    expect(actual.headers.get('access-control-expose-headers')).toContain('Link');
  });
});
