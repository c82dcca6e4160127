/**
 * The process entry point: the only place that reads the environment, builds the container, listens and
 * handles shutdown signals.
 */
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { createApp } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config/config.ts';
import { createContainer, type Container } from './container.ts';
import { parseDatabaseUrl } from './db/database-url.ts';
import { createHttpServer } from './http-server.ts';
import { OriginalDatabaseError, withStartupLock } from './db/orm.ts';
import { flushLogger } from './logger.ts';
import { createFirstAdminKey } from './services/bootstrap.ts';

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  let container: Container;
  try {
    container = await createContainer(config);
  } catch (error) {
    if (error instanceof OriginalDatabaseError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  await announceFirstAdminKey(container);
  const server = createHttpServer(createApp(container), config);
  server.listen(config.port, config.host, () => {
    container.logger.info('listening', {
      url: `http://${config.host}:${config.port}`,
      docs: `http://${config.host}:${config.port}/docs`,
      database: parseDatabaseUrl(config.databaseUrl).dialect,
      retention_cleanup_interval_ms: config.retentionCleanupIntervalMs,
      rerun_worker: config.rerunWorker ? container.rerunWorker.id : 'off',
    });
  });
  if (config.retentionCleanupIntervalMs !== null) {
    container.retentionCleanup.start(config.retentionCleanupIntervalMs);
  }
  if (config.rerunWorker) container.rerunWorker.start();
  server.on('error', (error) => {
    container.logger.error('server error', { error: String(error) });
    process.exit(1);
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => void shutdown(signal, server, container));
  }
}

/** The embedded database starts empty: print an admin key once so `make run` is usable right away. */
async function announceFirstAdminKey(container: Container): Promise<void> {
  const { config } = container;
  if (!config.bootstrapAdminKey || parseDatabaseUrl(config.databaseUrl).dialect !== 'sqlite') return;
  const plaintext = await withStartupLock(container.orm, (em) => createFirstAdminKey(em, container.apiKeys));
  if (plaintext === undefined) return;
  process.stdout.write(
    [
      '',
      '================================================================================',
      ' First start on an empty database: an admin API key was created.',
      ' It is shown only this once; store it now (make admin-key creates more):',
      '',
      `   X-API-Key: ${plaintext}`,
      '',
      `   curl -H "X-API-Key: ${plaintext}" http://${config.host}:${config.port}/api/v1/auth/verify`,
      '================================================================================',
      '',
    ].join('\n') + '\n',
  );
}

/** Stop accepting connections, let in-flight requests finish (bounded), then close the database. */
async function shutdown(signal: string, server: Server, container: Container): Promise<void> {
  container.logger.info('shutting down', { signal });
  const force = setTimeout(() => server.closeAllConnections(), container.config.shutdownTimeoutMs);
  force.unref();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
  await container.close();
  container.logger.info('stopped');
  await flushLogger(container.logger);
  process.exit(0);
}

main().catch((error: unknown) => {
  process.stderr.write(`fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
