/**
 * `make recount-runs` / `npm run recount-runs`: counts the live runs of every process again into
 * `process_run_count` (src/db/run-counts.ts), with the durations of those that have both times, and rebuilds the index of their declared meta values,
 * `process_run_field` (src/db/run-fields.ts), in one transaction. The service keeps both itself; run this
 * after another program wrote, changed or deleted runs in the tables behind the service's back.
 */
import { existsSync } from 'node:fs';
import { loadConfig } from '../config/config.ts';
import { createContainer } from '../container.ts';
import { reindexAllRunFields } from '../db/meta-fields.ts';
import { ormDialect } from '../db/orm.ts';
import { recountRuns } from '../db/run-counts.ts';

if (existsSync('.env')) process.loadEnvFile('.env');
const container = await createContainer(loadConfig({ ...process.env, LOG_LEVEL: 'warn' }));
try {
  const started = performance.now();
  await container.orm.em.fork().transactional(async (tx) => {
    await recountRuns(tx);
    await reindexAllRunFields(tx, ormDialect(container.orm));
  });
  process.stdout.write(
    `Counted the runs of every process and indexed their meta values again in ${Math.round(performance.now() - started)} ms.\n`,
  );
} finally {
  await container.close();
}
