/**
 * A real server for a test file: a fresh migrated database (SQLite, or PostgreSQL when
 * TEST_DATABASE_URL is set), the real app listening on 127.0.0.1 on a free port, and an admin key and
 * a user key to call it with.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createApp } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config/config.ts';
import { createContainer, type Container } from '../../src/container.ts';
import { createLogger } from '../../src/logger.ts';
import { createHttpServer } from '../../src/http-server.ts';
import { ormDialect } from '../../src/db/orm.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { runCountDrift, runFieldDrift, runTextDrift } from './run-counts.ts';

export interface TestServer {
  baseUrl: string;
  container: Container;
  adminKey: string;
  userKey: string;
  /** fetch against the server with the admin key (override headers to change that). */
  request(path: string, init?: RequestInit): Promise<Response>;
  /**
   * A JSON request with the admin key, its answer parsed; the test fails unless the status is `expected`
   * (default: any 2xx).
   */
  json<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    expected?: number,
  ): Promise<T>;
  /**
   * Stops the server and drops its database. First it checks that `process_run_count` and
   * `process_run_field` followed every change of runs (tests/support/run-counts.ts) and fails when not;
   * `checkRunCounts: false` for a test that took its database away.
   */
  close(options?: { checkRunCounts?: boolean }): Promise<void>;
}

export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const database: TestDatabase = await createTestDatabase();
  const config: Config = loadConfig({
    DATABASE_URL: database.url,
    LOG_LEVEL: 'silent',
    VALIDATE_RESPONSES: 'fail',
    APP_ENV: 'test',
    // Tests make hundreds of requests a minute with one key; tests/server/rate-limits.test.ts turns
    // the limits on (RATE_LIMITS=on) to test them.
    RATE_LIMITS: 'off',
    // The rerun tests (tests/reruns) turn the worker on; elsewhere no job is ever executed.
    RERUN_WORKER: 'off',
    ...env,
  });
  const container = await createContainer(config, {
    logger: createLogger(process.env['TEST_LOG_LEVEL'] === 'debug' ? 'debug' : 'silent'),
  });
  const em = container.orm.em.fork();
  const admin = await container.apiKeys.create(em, { name: 'Test admin', role: 'admin' });
  const user = await container.apiKeys.create(em, { name: 'Test robot', role: 'user' });
  const server: Server = createHttpServer(createApp(container), config).listen(0, '127.0.0.1');
  if (config.rerunWorker) container.rerunWorker.start();
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  const request = (path: string, init: RequestInit = {}) =>
    fetch(baseUrl + path, { ...init, headers: { 'X-API-Key': admin.plaintext, ...(init.headers ?? {}) } });
  return {
    baseUrl,
    container,
    adminKey: admin.plaintext,
    userKey: user.plaintext,
    request,
    async json<T>(method: string, path: string, body?: unknown, expected?: number): Promise<T> {
      const response = await request(path, {
        method,
        ...(body === undefined
          ? {}
          : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
      });
      const text = await response.text();
      if (expected === undefined ? !response.ok : response.status !== expected) {
        throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
      }
      return JSON.parse(text) as T;
    },
    async close({ checkRunCounts = true } = {}) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // Read before closing, thrown after cleaning up: the run counts followed every change of runs.
      const drift = checkRunCounts
        ? [
            ...(await runCountDrift(container.orm.em.fork()).catch((error: unknown) => [String(error)])),
            ...(await runFieldDrift(container.orm.em.fork(), ormDialect(container.orm)).catch(
              (error: unknown) => [String(error)],
            )),
            ...(await runTextDrift(container.orm.em.fork(), ormDialect(container.orm))),
          ]
        : [];
      await container.close();
      await database.dispose();
      if (drift.length > 0)
        throw new Error(
          `process_run_count, process_run_field or process_run_text drifted from the runs:\n${drift.join('\n')}`,
        );
    },
  };
}
