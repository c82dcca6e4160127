/**
 * `make worker` / `npm run worker`: a rerun worker on its own, without the HTTP API — for installations
 * that run reruns apart from the API instances (set `RERUN_WORKER=off` on those), or to add workers. It
 * reads the same configuration (`DATABASE_URL`, `RERUN_*`, `AUTOMATION_SERVER_*`), applies pending
 * migrations like the API does, and stops on SIGTERM/SIGINT after the attempts under way (bounded by
 * `SHUTDOWN_TIMEOUT_MS`; a job still running then is executed again once its lease has expired).
 */
import { existsSync } from 'node:fs';
import { ConfigError, loadConfig, type Config } from './config/config.ts';
import { createContainer } from './container.ts';
import { parseDatabaseUrl } from './db/database-url.ts';
import { flushLogger } from './logger.ts';

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
  const container = await createContainer(config);
  container.rerunWorker.start();
  container.logger.info('rerun worker started', {
    worker: container.rerunWorker.id,
    database: parseDatabaseUrl(config.databaseUrl).dialect,
    concurrency: config.rerunWorkerConcurrency,
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void (async () => {
        container.logger.info('rerun worker stopping', { signal });
        await container.close();
        container.logger.info('rerun worker stopped');
        await flushLogger(container.logger);
        process.exit(0);
      })();
    });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`fatal: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
