/**
 * Rate limits (src/middleware/rate-limit.ts): per key (user and admin classes), per IP without a key,
 * failed authentications per IP, the RateLimit headers and the 429 problem, and the database store that
 * makes two instances on one database enforce one limit (the memory store does not: shown side by side).
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createContainer, type Container } from '../../src/container.ts';
import { createLogger } from '../../src/logger.ts';
import { startTestServer, type TestServer } from '../support/app.ts';

/** Waits when the minute's window is about to end, so a test's requests fall into one window. */
async function awayFromWindowEnd(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 5000) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

const get = (baseUrl: string, path: string, key?: string) =>
  fetch(baseUrl + path, { headers: key === undefined ? {} : { 'X-API-Key': key } });

describe('rate limits in one instance', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      RATE_LIMITS: 'on',
      RATE_LIMIT_PER_KEY_PER_MINUTE: '5',
      RATE_LIMIT_ADMIN_PER_MINUTE: '8',
      RATE_LIMIT_PER_IP_PER_MINUTE: '3',
      RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '3',
    });
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(async () => {
    await awayFromWindowEnd();
    await server.container.rateLimitStore?.close(); // a fresh count for each test (memory store)
  });

  it('counts each key per minute, with the RateLimit headers, and answers 429 with Retry-After beyond it', async () => {
    const remaining: string[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await get(server.baseUrl, '/api/v1/processes', server.userKey);
      expect(response.status).toBe(200);
      expect(response.headers.get('ratelimit-policy')).toBe('"key";q=5;w=60');
      remaining.push(/r=(\d+)/.exec(response.headers.get('ratelimit') ?? '')?.[1] ?? '');
    }
    expect(remaining).toEqual(['4', '3', '2', '1', '0']);
    const refused = await get(server.baseUrl, '/api/v1/processes', server.userKey);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await refused.json()).toMatchObject({ status: 429, error_type: 'rate_limited' });
    // Another key has its own count, and admin keys a higher class.
    for (let i = 0; i < 8; i++)
      expect((await get(server.baseUrl, '/api/v1/processes', server.adminKey)).status).toBe(200);
    expect((await get(server.baseUrl, '/api/v1/processes', server.adminKey)).status).toBe(429);
  });

  it('never limits the health check or the documentation', async () => {
    for (let i = 0; i < 20; i++) {
      expect((await get(server.baseUrl, '/health')).status).toBe(200);
      expect((await get(server.baseUrl, '/openapi.json')).status).toBe(200);
    }
  });

  it('counts requests without a key per client IP', async () => {
    for (let i = 0; i < 3; i++) expect((await get(server.baseUrl, '/api/v1/processes')).status).toBe(401);
    const refused = await get(server.baseUrl, '/api/v1/processes');
    expect(refused.status).toBe(429);
    expect(refused.headers.get('ratelimit-policy')).toBe('"ip";q=3;w=60');
    // A valid key is not limited by its address.
    expect((await get(server.baseUrl, '/api/v1/processes', server.userKey)).status).toBe(200);
  });

  it('refuses an address that failed authentication too often, even with a valid key, until the window ends', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await get(server.baseUrl, '/api/v1/processes', `pd_${'g'.repeat(43)}`)).status).toBe(401);
    }
    const locked = await get(server.baseUrl, '/api/v1/processes', server.userKey);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});

describe('rate limits of two instances on one database', () => {
  const instances: { container: Container; server: Server; baseUrl: string }[] = [];
  let first: TestServer;
  let userKey: string;

  async function second(store: 'memory' | 'database') {
    const container = await createContainer(
      loadConfig({
        DATABASE_URL: first.container.config.databaseUrl,
        LOG_LEVEL: 'silent',
        RATE_LIMITS: 'on',
        RATE_LIMIT_STORE: store,
        RATE_LIMIT_PER_KEY_PER_MINUTE: '10',
      }),
      { logger: createLogger('silent'), migrate: false },
    );
    const server = createApp(container).listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const instance = {
      container,
      server,
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    };
    instances.push(instance);
    return instance;
  }

  beforeAll(async () => {
    first = await startTestServer();
    userKey = (await first.json<{ key: string }>('POST', '/api/v1/api-keys', { name: 'Delt grænse' })).key;
  });
  afterAll(async () => {
    for (const { container, server } of instances) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await container.close();
    }
    await first?.close();
  });

  /** Statuses of `count` requests with one key, alternating between the two instances. */
  async function alternate(a: string, b: string, count: number): Promise<number[]> {
    await awayFromWindowEnd();
    const statuses: number[] = [];
    for (let i = 0; i < count; i++) {
      statuses.push((await get(i % 2 === 0 ? a : b, '/api/v1/auth/verify', userKey)).status);
    }
    return statuses;
  }

  it('with RATE_LIMIT_STORE=database they enforce one limit together', async () => {
    const a = await second('database');
    const b = await second('database');
    const statuses = await alternate(a.baseUrl, b.baseUrl, 14);
    expect(statuses.filter((status) => status === 200)).toHaveLength(10);
    expect(statuses.slice(10)).toEqual([429, 429, 429, 429]);
  });

  it('with the memory store each instance counts alone (twice the limit together)', async () => {
    const a = await second('memory');
    const b = await second('memory');
    const statuses = await alternate(a.baseUrl, b.baseUrl, 22);
    expect(statuses.filter((status) => status === 200)).toHaveLength(20);
  });
});
