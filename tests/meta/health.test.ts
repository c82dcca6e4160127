import { rmSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDatabaseUrl } from '../../src/db/database-url.ts';
import { startTestServer, type TestServer } from '../support/app.ts';
import { dropServerDatabase, onAdminDatabase, testServerUrl } from '../support/database.ts';

/**
 * Takes the test database away for real, as each dialect allows: a corrupt file on SQLite; refused
 * connections on PostgreSQL (connections disallowed, sessions terminated); on SQL Server the database is
 * dropped after its sessions are ended (Babelfish has neither SET OFFLINE nor SINGLE_USER, and a dropped
 * database refuses new connections on both).
 */
async function breakDatabase(server: TestServer): Promise<void> {
  const { databaseUrl } = server.container.config;
  const parsed = parseDatabaseUrl(databaseUrl);
  const adminUrl = testServerUrl() ?? '';
  switch (parsed.dialect) {
    case 'sqlite':
      await server.container.orm.close(true);
      for (const suffix of ['-wal', '-shm']) rmSync(parsed.path + suffix, { force: true });
      writeFileSync(parsed.path, 'this is not a database file '.repeat(200));
      return;
    case 'postgresql':
      await onAdminDatabase(adminUrl, [
        [`alter database "${parsed.database}" allow_connections false`, []],
        [
          'select pg_terminate_backend(pid) from pg_stat_activity where datname = ? and pid <> pg_backend_pid()',
          [parsed.database],
        ],
      ]);
      return;
    case 'mssql':
      await dropServerDatabase(adminUrl, parsed.database);
      return;
  }
}

describe('GET /health', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    // Its database was taken away on purpose: nothing to check the run counts in.
    await server?.close({ checkRunCounts: false });
  });

  it("answers the original's {status: ok} without a key and the README's details with one", async () => {
    const anonymous = await fetch(`${server.baseUrl}/health`);
    expect(anonymous.status).toBe(200);
    expect(await anonymous.json()).toEqual({ status: 'ok' });
    const detailed = (await (await server.request('/health')).json()) as Record<string, unknown>;
    expect(detailed).toMatchObject({ status: 'healthy', database: 'connected', version: '1.0.0' });
    expect(detailed['uptime']).toMatch(/^\d+d \d+h \d+m$/);
  });

  it('treats an unknown key like no key (a probe never fails on a key)', async () => {
    const response = await fetch(`${server.baseUrl}/health`, {
      headers: { 'X-API-Key': 'pd_' + 'z'.repeat(43) },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('answers a 503 problem with Retry-After, quickly, when the database is gone', async () => {
    await breakDatabase(server);
    const started = Date.now();
    const response = await fetch(`${server.baseUrl}/health`);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(await response.json()).toMatchObject({ error_type: 'service_unavailable', status: 503 });
  });
});
