/**
 * The API's process entry point: builds the container from the environment (process-entry.ts), listens,
 * starts the background work, and handles shutdown signals.
 */
import type { Server, ServerResponse } from 'node:http';
import { createApp } from './app.ts';
import { onResponseEnd } from './util/response-end.ts';
import type { Container } from './container.ts';
import { parseDatabaseUrl } from './db/database-url.ts';
import { createHttpServer } from './http-server.ts';
import { withStartupLock } from './db/orm.ts';
import { closeAndExit, containerOrExit, runMain } from './process-entry.ts';
import { createFirstAdminKey } from './services/bootstrap.ts';

async function main(): Promise<void> {
  const container = await containerOrExit();
  const { config } = container;
  await announceFirstAdminKey(container);
  const server = createHttpServer(createApp(container), config);
  const handlers = trackHandlers(server);
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
    process.once(signal, () => void shutdown(signal, server, handlers, container));
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

/**
 * The requests whose handlers have not ended their response yet, and a wait for none. A connection closes
 * when its client goes, while the handler may still be running (waiting for a lock, say); `server.close`
 * waits for connections only, so the shutdown waits for these too before it closes the database.
 */
function trackHandlers(server: Server): { idle(): Promise<void> } {
  let running = 0;
  let wake: (() => void) | undefined;
  // Before the app's listener, in case it ends a response before it returns.
  server.prependListener('request', (_request, response: ServerResponse) => {
    running++;
    onResponseEnd(response, () => {
      running--;
      if (running === 0) wake?.();
    });
  });
  return {
    idle: () => (running === 0 ? Promise.resolve() : new Promise<void>((resolve) => (wake = resolve))),
  };
}

/**
 * Stop accepting connections, let in-flight requests finish — their handlers too, when their clients have
 * gone — then close the database; all of it bounded by SHUTDOWN_TIMEOUT_MS.
 */
async function shutdown(
  signal: string,
  server: Server,
  handlers: { idle(): Promise<void> },
  container: Container,
): Promise<void> {
  container.logger.info('shutting down', { signal });
  const timeoutMs = container.config.shutdownTimeoutMs;
  const deadline = new Promise<void>((resolve) => {
    setTimeout(() => {
      server.closeAllConnections();
      resolve();
    }, timeoutMs).unref();
  });
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
  await Promise.race([handlers.idle(), deadline]);
  await closeAndExit(container);
}

runMain(main);
