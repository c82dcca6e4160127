/**
 * `GET /auth/usage-stats`: the calling key's lifetime count (batched usage counting, unflushed uses
 * included) and, from the audit trail, its requests of the last 24 hours and 7 days and its top paths.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/entities/index.ts';
import { startTestServer, type TestServer } from '../support/app.ts';

const HOUR_MS = 3_600_000;

describe('GET /api/v1/auth/usage-stats', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ AUDIT_FLUSH_INTERVAL_MS: '60000', USAGE_FLUSH_INTERVAL_MS: '60000' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('counts the calling key only: lifetime, last 24 hours, last 7 days and its most-called paths', async () => {
    const robot = await server.json<{ id: number; key: string }>('POST', '/api/v1/api-keys', {
      name: 'Statistik',
    });
    const call = async (path: string) => {
      const response = await server.request(path, { headers: { 'X-API-Key': robot.key } });
      expect(response.status).toBe(200);
    };
    for (let i = 0; i < 3; i++) await call('/api/v1/processes');
    for (let i = 0; i < 2; i++) await call('/api/v1/auth/verify');
    await call('/api/v1/runs?entity_name=Jens+Hansen');
    // Older uses, as the trail holds them: 3 days ago (this week) and 8 days ago (before it).
    const em = server.container.orm.em.fork();
    const old = (hoursAgo: number, path: string) =>
      em.insert(AuditLog, {
        created_at: new Date(Date.now() - hoursAgo * HOUR_MS),
        api_key_id: robot.id,
        api_key_name: 'Statistik',
        method: 'GET',
        path,
        status_code: 200,
        duration_ms: 1,
      });
    await old(72, '/api/v1/steps/process/1');
    await old(72, '/api/v1/steps/process/1');
    await old(8 * 24, '/api/v1/dashboard/overview/1');
    await server.container.audit.flush();

    const response = await server.request('/api/v1/auth/usage-stats', {
      headers: { 'X-API-Key': robot.key },
    });
    expect(response.status).toBe(200);
    const stats = (await response.json()) as Record<string, unknown>;
    expect(stats).toEqual({
      key_id: robot.id,
      // 6 requests before and this one, none flushed to the key's row yet.
      usage_count: 7,
      last_used_at: stats['last_used_at'],
      daily_usage: 6,
      weekly_usage: 8,
      top_endpoints: [
        { endpoint: '/api/v1/processes', count: 3 },
        { endpoint: '/api/v1/auth/verify', count: 2 },
        { endpoint: '/api/v1/steps/process/1', count: 2 },
        { endpoint: '/api/v1/runs', count: 1 },
      ],
    });
    expect(stats['last_used_at']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Date.now() - Date.parse(stats['last_used_at'] as string)).toBeLessThan(60_000);
  });

  it('shows at most 10 paths, most calls first', async () => {
    const robot = await server.json<{ id: number; key: string }>('POST', '/api/v1/api-keys', {
      name: 'Mange',
    });
    const em = server.container.orm.em.fork();
    for (let path = 1; path <= 12; path++) {
      for (let call = 0; call < path; call++) {
        await em.insert(AuditLog, {
          created_at: new Date(Date.now() - HOUR_MS),
          api_key_id: robot.id,
          method: 'GET',
          path: `/api/v1/runs/${path}`,
          status_code: 200,
          duration_ms: 1,
        });
      }
    }
    const response = await server.request('/api/v1/auth/usage-stats', {
      headers: { 'X-API-Key': robot.key },
    });
    const stats = (await response.json()) as { top_endpoints: { endpoint: string; count: number }[] };
    expect(stats.top_endpoints).toEqual(
      [12, 11, 10, 9, 8, 7, 6, 5, 4, 3].map((n) => ({ endpoint: `/api/v1/runs/${n}`, count: n })),
    );
  });

  it('needs a key', async () => {
    const response = await fetch(`${server.baseUrl}/api/v1/auth/usage-stats`);
    expect(response.status).toBe(401);
  });
});
