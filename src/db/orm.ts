/**
 * ORM lifecycle: create (and connect), apply migrations, close.
 *
 * Request handlers must use a forked EntityManager (`orm.em.fork()` or MikroORM's `RequestContext`):
 * the global `orm.em` refuses to work (`allowGlobalContext: false`).
 */
import type { MigrationInfo, Transaction } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { MikroORM, type AbstractSqlDriver, type SqlEntityManager } from '@mikro-orm/sql';
import { emDialect, parseDatabaseUrl, type Dialect } from './database-url.ts';
import { acquireMigrationLock } from './migration-lock.ts';
import { databaseKind, ORIGINAL_SERVICE_TABLES, tableNamesOf, type AdoptionConnection } from './adopt.ts';
import { prepareSqliteReading, type SqliteReadingDatabase } from './sqlite-connection.ts';
import { useTrigramFolding } from './sqlite-run-text.ts';
import {
  buildOrmConfig,
  MIGRATIONS_TABLE,
  SQLITE_BUSY_TIMEOUT_MS,
  type BuildOrmConfigOptions,
} from './orm-config.ts';
import { SqliteReadConnections, WAL_SIZE_LIMIT } from './sqlite-readers.ts';
import type { BoundParameterSqliteConnection } from './sqlite-utc-text.ts';

export type Orm = MikroORM<AbstractSqlDriver, SqlEntityManager<AbstractSqlDriver>>;

/**
 * Initialises MikroORM for `databaseUrl` and (unless `connect: false`) connects right away, so a wrong
 * URL or an unreachable server fails at start-up rather than on the first request.
 */
export async function createOrm(databaseUrl: string, options: BuildOrmConfigOptions = {}): Promise<Orm> {
  const config = await buildOrmConfig(databaseUrl, options);
  const orm = (await MikroORM.init(config)) as Orm;
  if (options.connect ?? true) {
    try {
      await orm.connect();
      const parsed = parseDatabaseUrl(databaseUrl);
      if (parsed.dialect === 'sqlite') await prepareSqliteConnection(orm);
      if (parsed.dialect === 'sqlite' && !parsed.inMemory) {
        // WAL lets readers proceed while a write is in progress; the mode is stored in the database file.
        await orm.em.fork().getConnection().execute('pragma journal_mode = WAL');
        await addReadConnections(orm, options.sqliteReadThreads ?? 0);
      }
    } catch (error) {
      await orm.close(true).catch(() => undefined);
      throw error;
    }
  }
  return orm;
}

/**
 * The one SQLite connection, made ready once:
 * - Unicode lower() and kept prepared statements, as every SQLite connection of the service
 *   (sqlite-connection.ts).
 * - The "contains" searches may ask its trigram index, which texts it can serve learned at the first one
 *   (sqlite-run-text.ts).
 */
async function prepareSqliteConnection(orm: Orm): Promise<void> {
  const connection = orm.em.getConnection() as unknown as {
    getNativeClient(): Promise<SqliteReadingDatabase>;
  };
  const database = await connection.getNativeClient();
  prepareSqliteReading(database);
  // The same library's case folding of its trigram index (sqlite-run-text.ts), asked in a scratch database.
  const Database = database.constructor as new (
    path: string,
  ) => Parameters<typeof useTrigramFolding>[0] extends () => infer D ? D : never;
  useTrigramFolding(() => new Database(':memory:'));
}

/** Gives the SQLite connection of `orm` `count` read connections on worker threads (sqlite-readers.ts). */
async function addReadConnections(orm: Orm, count: number): Promise<void> {
  if (count <= 0) return;
  const connection = orm.em.getConnection() as unknown as BoundParameterSqliteConnection;
  const database = (await connection.getNativeClient()) as {
    name: string;
    inTransaction: boolean;
    pragma(sql: string): unknown;
  };
  await connection.execute(`pragma journal_size_limit = ${WAL_SIZE_LIMIT}`);
  connection.readConnections = new SqliteReadConnections(database.name, {
    count,
    busyTimeoutMs: SQLITE_BUSY_TIMEOUT_MS,
    // Between statements (the event loop's turn): the one connection is idle unless a transaction is open.
    checkpoint: () => {
      if (database.inTransaction) return false;
      database.pragma('wal_checkpoint(TRUNCATE)');
      return true;
    },
  });
}

/** The dialect of an ORM made by `createOrm` (from its driver, which `buildOrmConfig` picked). */
export function ormDialect(orm: Orm): Dialect {
  return emDialect(orm.em);
}

/**
 * Runs `work` in a new transaction that holds the migration lock (migration-lock.ts): one instance at a
 * time per database, released when the transaction ends.
 */
export async function withMigrationLock<T>(orm: Orm, work: (trx: Transaction) => Promise<T>): Promise<T> {
  const connection = orm.em.getConnection();
  const dialect = ormDialect(orm);
  return connection.transactional(async (trx) => {
    await acquireMigrationLock(connection, trx, dialect);
    return work(trx);
  });
}

/**
 * Runs `work` with an EntityManager whose transaction holds the migration lock: for other one-time
 * start-up work that instances starting at once must not all do (e.g. creating the first admin key).
 */
export async function withStartupLock<T>(orm: Orm, work: (em: SqlEntityManager) => Promise<T>): Promise<T> {
  return orm.em.fork().transactional(async (em) => {
    await acquireMigrationLock(em.getConnection(), em.getTransactionContext(), ormDialect(orm));
    return work(em);
  });
}

const preparedMigrators = new WeakSet<Orm>();

/**
 * MikroORM's migrator creates its bookkeeping table on first use (`Migrator.init`), on a pooled connection
 * outside any transaction: instances starting at once on an empty database all ran
 * `create table mikro_orm_migrations`. So the table is created here under the lock, in the lock's
 * transaction; then the migrator initialises (finds the table, checks the database exists) outside any
 * transaction. That must not happen inside the migrating transaction: SQLite has one connection, and a
 * query outside an open transaction would wait for it forever.
 */
async function preparedMigrator(orm: Orm): Promise<Migrator> {
  const migrator = orm.migrator;
  if (!(migrator instanceof Migrator)) throw new Error('the MikroORM Migrator extension is not registered');
  if (preparedMigrators.has(orm)) return migrator;
  const storage = migrator.getStorage();
  await withMigrationLock(orm, async (trx) => {
    storage.setMasterMigration(trx);
    try {
      await storage.ensureTable();
    } finally {
      storage.unsetMasterMigration();
    }
  });
  // Called for its side effect: the migrator's one-time initialisation.
  await migrator.getExecuted();
  preparedMigrators.add(orm);
  return migrator;
}

/** Refused before anything is written: a database the original service created and nobody adopted. */
export class OriginalDatabaseError extends Error {}

/** The ORM's connection as adoption uses it (src/db/adopt.ts). */
export function adoptionConnection(orm: Orm): AdoptionConnection {
  const connection = orm.em.getConnection();
  return {
    dialect: ormDialect(orm),
    platform: orm.em.getPlatform(),
    execute: <T>(sql: string, params: unknown[] = []) => connection.execute<T[]>(sql, params),
    transactional: (work) =>
      connection.transactional((trx) =>
        work(<T>(sql: string, params: unknown[] = []) => connection.execute<T[]>(sql, params, 'all', trx)),
      ),
  };
}

/**
 * Refuses a database the original service created (its tables, no migration table), and one whose
 * adoption is unfinished: migrating either would collide with their tables or serve a half-copied
 * database. Checked before the migration table is created, so such a database is left as it was.
 */
async function refuseOriginalDatabase(orm: Orm): Promise<void> {
  const connection = adoptionConnection(orm);
  const tables = await tableNamesOf(connection);
  if ((await databaseKind(connection, tables)) === 'adopting') {
    throw new OriginalDatabaseError(
      "An adoption of the original service's database was started and is not finished. Nothing was " +
        'changed now. Continue it: make adopt ARGS=--apply (README "Moving from the Python service").',
    );
  }
  if (tables.has(MIGRATIONS_TABLE)) return;
  const found = ORIGINAL_SERVICE_TABLES.filter((name) => tables.has(name));
  if (found.length === 0) return;
  throw new OriginalDatabaseError(
    `The database holds tables of the original Python service (${found.join(', ')}) and no ` +
      `${MIGRATIONS_TABLE} table: it was created by that service. Nothing was changed. Convert it in place ` +
      'first: make adopt (prints the plan), then make adopt ARGS=--apply (README "Moving from the Python service").',
  );
}

/**
 * Applies all pending migrations (in one transaction, under the migration lock); returns the applied ones
 * (empty when up to date, also when another instance applied them while this one waited for the lock).
 */
export async function migrateToLatest(
  orm: Orm,
  options: { adopting?: boolean } = {},
): Promise<MigrationInfo[]> {
  // Adoption's own step 2 migrates the database whose original tables it has set aside.
  if (options.adopting !== true) await refuseOriginalDatabase(orm);
  return applyMigrations(orm, {});
}

/** Applies the pending migrations up to and including `name`, under the migration lock (tests of data migrations). */
export async function migrateUpTo(orm: Orm, name: string): Promise<MigrationInfo[]> {
  return applyMigrations(orm, { to: name });
}

/** Applies pending migrations (all, or up to `to`) in one transaction holding the migration lock. */
async function applyMigrations(orm: Orm, options: { to?: string }): Promise<MigrationInfo[]> {
  const migrator = await preparedMigrator(orm);
  // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- MikroORM's `Transaction` type is `any`
  return withMigrationLock(orm, (trx) => migrator.up({ ...options, transaction: trx }));
}

/** Names of migrations that exist on disk but are not applied yet. */
export async function pendingMigrations(orm: Orm): Promise<string[]> {
  const migrator = await preparedMigrator(orm);
  return (await migrator.getPending()).map((m) => m.name);
}

export async function closeOrm(orm: Orm): Promise<void> {
  await orm.close(true);
}
