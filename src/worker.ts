/**
 * `make worker` / `npm run worker`: a rerun worker on its own, without the HTTP API — for installations
 * that run reruns apart from the API instances (set `RERUN_WORKER=off` on those), or to add workers. It
 * reads the same configuration (`DATABASE_URL`, `RERUN_*`, `AUTOMATION_SERVER_*`), applies pending
 * migrations like the API does, and stops on SIGTERM/SIGINT after the attempts under way (bounded by
 * `SHUTDOWN_TIMEOUT_MS`; a job still running then is executed again once its lease has expired).
 */
import { parseDatabaseUrl } from './db/database-url.ts';
import { closeAndExit, containerOrExit, runMain } from './process-entry.ts';

async function main(): Promise<void> {
  const container = await containerOrExit();
  container.rerunWorker.start();
  container.logger.info('rerun worker started', {
    worker: container.rerunWorker.id,
    database: parseDatabaseUrl(container.config.databaseUrl).dialect,
    concurrency: container.config.rerunWorkerConcurrency,
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      container.logger.info('rerun worker stopping', { signal });
      void closeAndExit(container);
    });
  }
}

runMain(main);
