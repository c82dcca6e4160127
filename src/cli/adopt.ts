/**
 * `make adopt` / `npm run db:adopt -- [--apply]`: takes over a database the original Python service
 * created (DATABASE_URL). Without --apply it prints the plan and changes nothing; with --apply it runs
 * the steps not done yet (src/db/adopt.ts). Exit codes: 0 done (or nothing to do), 2 refused.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/config.ts';
import { AdoptionRefused, adoptionPlan, applyAdoption } from '../db/adopt.ts';
import { parseDatabaseUrl } from '../db/database-url.ts';
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
const parsed = parseDatabaseUrl(databaseUrl);
if (parsed.dialect === 'sqlite' && (parsed.inMemory || !existsSync(resolve(parsed.path)))) {
  // Opening a SQLite file that is not there would create it: there is nothing to adopt.
  process.stderr.write(
    `No SQLite database at ${parsed.path}: there is nothing to adopt. Nothing was created.\n`,
  );
  process.exit(2);
}
const orm = await createOrm(databaseUrl);
const print = (line: string) => process.stdout.write(`${line}\n`);
try {
  const connection = adoptionConnection(orm);
  const plan = await adoptionPlan(connection);
  for (const line of plan.lines) print(line);
  if (values.apply) {
    await applyAdoption(
      connection,
      plan,
      async () => {
        await migrateToLatest(orm, { adopting: true });
      },
      print,
    );
  } else if (plan.kind !== 'ours') {
    print('Nothing was changed. Run again with --apply (make adopt ARGS=--apply) to adopt the database.');
  }
} catch (error) {
  if (!(error instanceof AdoptionRefused)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 2;
} finally {
  await closeOrm(orm);
}
