/**
 * MikroORM configuration for the three supported databases (SQLite, PostgreSQL, SQL Server).
 *
 * Notes on MikroORM 7 behaviour this relies on:
 * - `MikroORM.init()` never connects: the connection is opened lazily on the first query (or by an
 *   explicit `orm.connect()`, which `createOrm` does unless `connect: false`). Offline work (schema diffs,
 *   `migrations-cli.ts create|check`) therefore needs no server, only `ensureDatabase: false`.
 * - Migrations live in `migrations/<dialect>/` next to a fixed-name snapshot `.snapshot-<dialect>.json`
 *   (MikroORM's default name contains the database name, which differs per environment).
 * - `snapshotOnMigrate` is off: applying migrations must never write into the source tree.
 *
 * Only the driver of the configured dialect is loaded (`await import(...)` in `buildOrmConfig`): each
 * driver package pulls in its client library (better-sqlite3, pg, tedious), and loading all three cost
 * every server tens of MB of memory for two drivers it never uses.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PoolConfig } from '@mikro-orm/core';
import type { AbstractSqlDriver, SqlEntityManager, SqlOptions } from '@mikro-orm/sql';
import { Migrator } from '@mikro-orm/migrations';
import { entities } from '../entities/index.ts';
import { addTrigramIndexesOnPostgres } from './postgres-trigram-indexes.ts';
import { addRunTextTriggersOnSqlite, RUN_TEXT_TABLES } from './sqlite-run-text.ts';
import { storeJsonAsTextOnPostgres } from './json-properties.ts';
import { parseDatabaseUrl, type Dialect, type ServerDatabaseUrl } from './database-url.ts';

export type OrmOptions = SqlOptions<AbstractSqlDriver, SqlEntityManager<AbstractSqlDriver>>;

export interface BuildOrmConfigOptions {
  /** Log SQL queries. Default false. */
  debug?: boolean;
  /**
   * `false` for offline use (no database needed: schema diffs against the snapshot, migration generation):
   * no `ensureDatabase`, no SQLite file/folder creation, and `createOrm` does not connect. Default true.
   */
  connect?: boolean;
  /** Maximum pool size for PostgreSQL / SQL Server (SQLite uses a single connection). Default 10. */
  poolMax?: number;
  /**
   * PostgreSQL / SQL Server: how long a query waits for a free pooled connection before it fails (and the
   * request gets a 503 with Retry-After). Default 5000 ms. Without it both pools wait for ever.
   */
  acquireTimeoutMs?: number;
  /**
   * SQLite on a file: read connections on worker threads for the heavy reads (sqlite-readers.ts; `createOrm`
   * sets them up). Default 0: every query on the one connection.
   */
  sqliteReadThreads?: number;
}

/** Repository root (this file is src/db/orm-config.ts). */
const ROOT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Absolute path of the migrations folder of a dialect. */
export function migrationsPath(dialect: Dialect): string {
  return resolve(ROOT_DIR, 'migrations', dialect);
}

/** File name (without `.json`) of the schema snapshot inside `migrationsPath(dialect)`. */
export function snapshotName(dialect: Dialect): string {
  return `.snapshot-${dialect}`;
}

/** Name of the table recording the applied migrations. */
export const MIGRATIONS_TABLE = 'mikro_orm_migrations';

/** How long SQLite waits for another connection's lock before failing with SQLITE_BUSY (better-sqlite3 `timeout`). */
export const SQLITE_BUSY_TIMEOUT_MS = 5000;

/**
 * MikroORM options for `databaseUrl`. Async because it imports the driver of that dialect only.
 */
export async function buildOrmConfig(
  databaseUrl: string,
  options: BuildOrmConfigOptions = {},
): Promise<OrmOptions> {
  const parsed = parseDatabaseUrl(databaseUrl);
  const connect = options.connect ?? true;
  const poolMax = options.poolMax ?? 10;
  const acquireTimeoutMs = options.acquireTimeoutMs ?? 5000;
  const dialect = parsed.dialect;

  const common: OrmOptions = {
    // Explicit list, no folder discovery. The same list is used for `entitiesTs` so the TypeScript
    // detection of MikroORM (true under vitest or when running a .ts file) changes nothing.
    entities,
    entitiesTs: entities,
    extensions: [Migrator],
    baseDir: ROOT_DIR,
    preferTs: false,
    debug: options.debug ?? false,
    allowGlobalContext: false,
    // Dates are JS Dates in UTC: timestamptz on PostgreSQL, datetime2 read/written as UTC on SQL Server
    // (tedious `useUTC`), UTC text `YYYY-MM-DD HH:MM:SS.ffffff` on SQLite (sqlite-utc-text.ts).
    forceUtcTimezone: true,
    ensureDatabase: false,
    // A row is hidden by the softDelete filter only when ITS OWN deleted_at is set. MikroORM's default
    // (`true`) would also inner-join every to-one relation that has a filter and hide e.g. step runs
    // whose step was soft-deleted — surprising, and an extra join on every query.
    autoJoinRefsForFilters: false,
    migrations: {
      path: migrationsPath(dialect),
      pathTs: migrationsPath(dialect),
      glob: '!(*.d).{js,ts}',
      tableName: MIGRATIONS_TABLE,
      emit: 'ts',
      snapshot: true,
      snapshotName: snapshotName(dialect),
      snapshotOnMigrate: false,
      transactional: true,
      allOrNothing: true,
      silent: true,
    },
    // Note: MikroORM also merges MIKRO_ORM_* environment variables into options NOT set here
    // (explicit options win, `preferEnvVars` is false); do not set such variables in deployments.
  };

  const serverConnection = (server: ServerDatabaseUrl) => ({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    dbName: server.database,
    pool: { min: 0, max: poolMax, idleTimeoutMillis: 30_000 },
  });

  switch (parsed.dialect) {
    case 'sqlite': {
      const dbName = parsed.inMemory
        ? ':memory:'
        : isAbsolute(parsed.path)
          ? parsed.path
          : resolve(process.cwd(), parsed.path);
      if (connect && !parsed.inMemory) {
        const dir = dirname(dbName);
        if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
      }
      // Imports @mikro-orm/sqlite itself, so it is loaded only here. Times as UTC text (see the file).
      const { UtcTextSqliteDriver } = await import('./sqlite-utc-text.ts');
      return {
        ...common,
        driver: UtcTextSqliteDriver,
        dbName,
        // Foreign keys: MikroORM's SQLite connection runs `pragma foreign_keys = on` on every connect.
        // WAL: a persistent property of the database file, switched on by `createOrm` (orm.ts) after it
        // connects. Busy timeout: how long a statement waits for another process's lock (better-sqlite3
        // `timeout`; the migration lock waits longer, see migration-lock.ts).
        driverOptions: { timeout: SQLITE_BUSY_TIMEOUT_MS },
        // The trigram index of the "contains" searches (sqlite-run-text.ts): its triggers in the metadata,
        // its FTS5 tables outside MikroORM's schema.
        discovery: { onMetadata: addRunTextTriggersOnSqlite },
        schemaGenerator: { ...common.schemaGenerator, skipTables: [RUN_TEXT_TABLES] },
      };
    }
    case 'postgresql': {
      // Imports @mikro-orm/postgresql itself, so it is loaded only here. Values bound, statements prepared.
      const { BoundParameterPostgreSqlDriver, prepareNamedStatements } =
        await import('./postgres-bound-parameters.ts');
      return {
        ...common,
        driver: BoundParameterPostgreSqlDriver,
        ...serverConnection(parsed),
        // JSON as the text written, as the original stored it (see json-properties.ts); trigram indexes
        // for the "contains" searches (postgres-trigram-indexes.ts).
        discovery: {
          onMetadata: (meta) => {
            storeJsonAsTextOnPostgres(meta);
            addTrigramIndexesOnPostgres(meta);
          },
        },
        // Merged into the pg Pool options: also bounds the wait for a free connection when all are in use.
        driverOptions: { connectionTimeoutMillis: acquireTimeoutMs, onPoolCreated: prepareNamedStatements },
      };
    }
    case 'mssql': {
      const { MsSqlDriver } = await import('@mikro-orm/mssql');
      // Imports @mikro-orm/mssql itself, so it is loaded only here.
      const { useUnicodeJsonOnMssql } = await import('./mssql-unicode-json.ts');
      const connection = serverConnection(parsed);
      // Passed on to the tarn pool of Kysely's SQL Server dialect (MikroORM's PoolConfig type lacks it).
      // tarn's default retries a connection that cannot be made (login refused, database offline or
      // dropped) every 200 ms until the 30 s acquire timeout, so every request would hang 30 s before its
      // 503; this fails the waiting request at once, as the PostgreSQL pool does.
      const pool: PoolConfig = Object.assign(
        { ...connection.pool },
        { propagateCreateError: true, acquireTimeoutMillis: acquireTimeoutMs },
      );
      return {
        ...common,
        driver: MsSqlDriver,
        ...connection,
        pool,
        // JSON values are sent as N'...' literals (see mssql-unicode-json.ts), or emoji would become '?'.
        discovery: { onMetadata: useUnicodeJsonOnMssql },
        onCreateConnection: skipRollbackOfEndedTransaction,
        // Deep-merged into the tedious connection config by MikroORM's MsSqlConnection.
        driverOptions: {
          options: {
            encrypt: parsed.encrypt,
            trustServerCertificate: parsed.trustServerCertificate,
            // MikroORM turns this on: when the configured database cannot be opened (offline, dropped,
            // no access) the login would silently land in the login's default database (master), where
            // every query fails or, worse, finds another table of the same name. Refuse instead.
            fallbackToDefaultDb: false,
          },
        },
      };
    }
  }
}

/**
 * SQL Server ends a transaction itself on some errors (a deadlock victim, an error raised in a trigger,
 * anything under XACT_ABORT) and tells the driver so; the ROLLBACK that MikroORM then sends fails, and
 * Kysely, whose rollback releases the connection only after a successful ROLLBACK, never gives that
 * connection back to the pool: after `DB_POOL_SIZE` such errors every request waited for a connection
 * and got 503. A rollback of a transaction that tedious knows has ended is therefore a no-op.
 */
function skipRollbackOfEndedTransaction(native: unknown): Promise<void> {
  const connection = native as {
    inTransaction: boolean;
    rollbackTransaction(callback: (error?: Error | null) => void, name?: string): void;
  };
  const rollback = connection.rollbackTransaction.bind(connection);
  connection.rollbackTransaction = (callback, name) => {
    if (connection.inTransaction) rollback(callback, name);
    else callback(null);
  };
  return Promise.resolve();
}
