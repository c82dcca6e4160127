import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/entities/index.ts';
import { ApiKeyService, generateApiKey } from '../../src/services/api-key.service.ts';
import { startTestServer, type TestServer } from '../support/app.ts';

describe('API key authentication', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ AUTH_CACHE_TTL_SECONDS: '0' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('generates pd_ keys of 43 URL-safe characters, never the same twice', () => {
    const keys = new Set(Array.from({ length: 100 }, () => generateApiKey()));
    expect(keys.size).toBe(100);
    for (const key of keys) expect(key).toMatch(/^pd_[A-Za-z0-9_-]{43}$/);
  });

  it('stores an argon2id hash and a short prefix, never the key', async () => {
    const em = server.container.orm.em.fork();
    const { apiKey, plaintext } = await server.container.apiKeys.create(em, { name: 'Hash check' });
    const stored = await em.fork().findOneOrFail(ApiKey, { id: apiKey.id });
    expect(stored.key_hash).toMatch(/^\$argon2id\$/);
    expect(stored.key_hash).not.toContain(plaintext);
    expect(stored.key_prefix).toBe(plaintext.slice(0, 8));
  });

  it('accepts the key in X-API-Key and as a bearer token', async () => {
    const viaHeader = await fetch(`${server.baseUrl}/api/v1/auth/verify`, {
      headers: { 'X-API-Key': server.userKey },
    });
    expect(viaHeader.status).toBe(200);
    const body = (await viaHeader.json()) as { status: string; key_info: { name: string; role: string } };
    expect(body).toMatchObject({ status: 'valid', key_info: { name: 'Test robot', role: 'user' } });
    const viaBearer = await fetch(`${server.baseUrl}/api/v1/auth/me`, {
      headers: { Authorization: `Bearer ${server.adminKey}` },
    });
    expect(viaBearer.status).toBe(200);
    expect(await viaBearer.json()).toMatchObject({ name: 'Test admin', role: 'admin', is_active: true });
  });

  it('rejects an inactive key and an expired key with 401', async () => {
    const em = server.container.orm.em.fork();
    const inactive = await server.container.apiKeys.create(em, { name: 'Off', is_active: false });
    const expired = await server.container.apiKeys.create(em, {
      name: 'Old',
      expires_at: new Date(Date.now() - 1000),
    });
    for (const key of [inactive.plaintext, expired.plaintext]) {
      const response = await fetch(`${server.baseUrl}/api/v1/auth/verify`, { headers: { 'X-API-Key': key } });
      expect(response.status).toBe(401);
    }
  });

  it('shows /health details only to a valid key', async () => {
    const anonymous = await fetch(`${server.baseUrl}/health`);
    expect(anonymous.status).toBe(200);
    expect(await anonymous.json()).toEqual({ status: 'ok' });
    const withKey = await server.request('/health');
    const details = (await withKey.json()) as { status: string; database: string; uptime: string };
    expect(details).toMatchObject({ status: 'healthy', database: 'connected' });
    expect(details.uptime).toMatch(/^\d+d \d+h \d+m$/);
  });
});

describe('ApiKeyService verification cache', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('keeps trusting a verified key only until the TTL runs out', async () => {
    let now = Date.now();
    const service = new ApiKeyService({ cacheTtlSeconds: 5, now: () => now });
    const em = server.container.orm.em.fork();
    const { apiKey, plaintext } = await service.create(em, { name: 'Cached', role: 'user' });
    expect(await service.authenticate(em.fork(), plaintext)).toMatchObject({
      keyId: apiKey.id,
      role: 'user',
    });

    await em.fork().nativeUpdate(ApiKey, { id: apiKey.id }, { is_active: false });
    now += 4_000;
    expect(await service.authenticate(em.fork(), plaintext)).toBeDefined();
    now += 2_000;
    expect(await service.authenticate(em.fork(), plaintext)).toBeUndefined();
  });
});
