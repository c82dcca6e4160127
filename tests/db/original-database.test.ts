/**
 * A database the original Python service created (its tables, no migration table): our service must not
 * migrate it — the migrations would collide with its tables — and must leave it exactly as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { createContainer } from '../../src/container.ts';
import { tableNamesOf } from '../../src/db/adopt.ts';
import {
  adoptionConnection,
  closeOrm,
  createOrm,
  OriginalDatabaseError,
  type Orm,
} from '../../src/db/orm.ts';
import { createLogger } from '../../src/logger.ts';
import { originalSchemaDdl } from '../fixtures/original-schema.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort, spawnServer } from '../support/processes.ts';

describe('a database created by the original service', () => {
  let db: TestDatabase;
  let orm: Orm;
  const tables = async () => [...(await tableNamesOf(adoptionConnection(orm)))].sort();
  const processNames = async () =>
    (await orm.em.fork().getConnection().execute<{ name: string }[]>('select name from process')).map(
      (row) => row.name,
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    orm = await createOrm(db.url);
    const connection = orm.em.fork().getConnection();
    for (const statement of originalSchemaDdl(db.dialect)) await connection.execute(statement);
    await connection.execute(
      "insert into process (created_at, updated_at, name, meta, retention_months) values ('2024-03-01 08:00:00', '2024-03-01 08:00:00', 'Flytning – Århus', '{}', 12)",
    );
  });
  afterAll(async () => {
    if (orm !== undefined) await closeOrm(orm);
    await db?.dispose();
  });

  it('is refused before anything is written, naming what was found and what to do', async () => {
    const before = await tables();
    expect(before).toContain('process_run');
    const config = loadConfig({ DATABASE_URL: db.url, LOG_LEVEL: 'silent', APP_ENV: 'test' });
    const error = await createContainer(config, { logger: createLogger('silent') }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(OriginalDatabaseError);
    expect((error as Error).message).toMatch(
      /tables of the original Python service \(process, process_step, process_run/,
    );
    expect((error as Error).message).toMatch(/Nothing was changed/);
    expect(await tables()).toEqual(before);
    expect(await processNames()).toEqual(['Flytning – Århus']);
  });

  it('makes the server refuse to start with that message and exit code 2', async () => {
    const port = await freePort();
    const failure = await spawnServer({
      cwd: process.cwd(),
      port,
      env: { DATABASE_URL: db.url, API_PORT: String(port), LOG_LEVEL: 'warn' },
    }).then(
      () => undefined,
      (error: unknown) => (error as Error).message,
    );
    expect(failure).toMatch(/server exited with 2/);
    expect(failure).toMatch(/original Python service/);
    expect(await tables()).not.toContain('mikro_orm_migrations');
    expect(await processNames()).toEqual(['Flytning – Århus']);
  });
});
