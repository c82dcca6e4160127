/**
 * `make adopt` / `npm run db:adopt -- [--apply]`: takes over a database the original Python service
 * created (DATABASE_URL). Without --apply it prints the plan and changes nothing; with --apply it runs
 * the steps not done yet (src/db/adopt.ts). Exit codes: 0 done (or nothing to do), 2 refused.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/config.ts';
import { AdoptionRefused, adoptionPlan, applyAdoption } from '../db/adopt.ts';
import { adoptionConnection, closeOrm, createOrm, migrateToLatest } from '../db/orm.ts';

if (existsSync('.env')) process.loadEnvFile('.env');
const { values } = parseArgs({ options: { apply: { type: 'boolean', default: false } } });
let databaseUrl: string;
try {
  databaseUrl = loadConfig({ ...process.env, LOG_LEVEL: 'warn' }).databaseUrl;
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(2);
}
const orm = await createOrm(databaseUrl);
const print = (line: string) => process.stdout.write(`${line}\n`);
try {
  const connection = adoptionConnection(orm);
  for (const line of await adoptionPlan(connection)) print(line);
  if (values.apply) {
    await applyAdoption(
      connection,
      async () => {
        await migrateToLatest(orm, { adopting: true });
      },
      print,
    );
  } else {
    print('Nothing was changed. Run again with --apply (make adopt ARGS=--apply) to adopt the database.');
  }
} catch (error) {
  if (!(error instanceof AdoptionRefused)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 2;
} finally {
  await closeOrm(orm);
}
