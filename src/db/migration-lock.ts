/**
 * A database-wide lock for applying migrations. MikroORM has none: several instances starting at once on
 * the same empty database all ran the same DDL, and all but one failed (PostgreSQL: duplicate key in
 * `pg_class`). With the lock, one instance migrates while the others wait, then find nothing pending.
 *
 * The lock is transaction-scoped and taken as the FIRST statement of a transaction; the caller then does
 * its work in that same transaction (MikroORM's `migrator.up({ transaction })`). So it is held on exactly
 * the connection that does the work, whatever the pool hands out, and it is released by the commit or
 * rollback — or by the server when the process dies mid-migration:
 *
 * - PostgreSQL: `pg_advisory_xact_lock` (advisory locks are per database).
 * - SQL Server: `sp_getapplock @LockOwner = 'Transaction'`. The resource name includes the database name:
 *   Babelfish implements applocks with PostgreSQL advisory locks of its one PostgreSQL database, which all
 *   T-SQL databases share.
 * - SQLite: the database file's write lock. MikroORM opens transactions with a deferred `begin`, and cannot
 *   be told to say `begin immediate`; a write as the first statement takes the write lock the same way (it
 *   waits for it with the busy timeout, while a read-then-write transaction could fail with
 *   SQLITE_BUSY_SNAPSHOT). The write creates and drops a scratch table, so it leaves nothing behind.
 *
 * Waiting is bounded by `MIGRATION_LOCK_TIMEOUT_MS`; a migration that takes longer makes the waiting
 * instances fail at start-up (and be restarted by their supervisor) rather than hang forever.
 */
import type { Transaction } from '@mikro-orm/core';
import type { AbstractSqlConnection } from '@mikro-orm/sql';
import type { Dialect } from './database-url.ts';

/** How long an instance waits for another one's migrations before giving up. */
export const MIGRATION_LOCK_TIMEOUT_MS = 120_000;

/** PostgreSQL advisory lock key (bigint) of this application's migrations: ASCII "pd-migr" (0x70642d6d696772). */
export const POSTGRESQL_MIGRATION_LOCK_KEY = '31635343663523698';

/** SQL Server applock resource prefix; the database name is appended. */
export const MSSQL_MIGRATION_LOCK_RESOURCE = 'process-dashboard-api:migrations:';

/** SQLite scratch table written (and dropped) to take the write lock. */
export const SQLITE_MIGRATION_LOCK_TABLE = 'pd_migration_lock';

/** `sp_getapplock` return codes below zero. */
const APPLOCK_FAILURES: Record<number, string> = {
  [-1]: 'timed out',
  [-2]: 'the request was cancelled',
  [-3]: 'chosen as deadlock victim',
  [-999]: 'parameter validation or other call error',
};

/**
 * Takes the migration lock inside the transaction `trx` (which must not have run anything yet). It is held
 * until `trx` ends.
 */
export async function acquireMigrationLock(
  connection: AbstractSqlConnection,
  trx: Transaction,
  dialect: Dialect,
  timeoutMs: number = MIGRATION_LOCK_TIMEOUT_MS,
): Promise<void> {
  const run = <T extends Array<Record<string, unknown>> = Array<Record<string, unknown>>>(
    sql: string,
    params: unknown[] = [],
  ) => connection.execute<T>(sql, params, 'all', trx);
  switch (dialect) {
    case 'postgresql': {
      // lock_timeout bounds the wait for the advisory lock; restored right after, so the migration's own
      // statements keep the configured value.
      const [current] = await run<Array<{ lock_timeout: string }>>(
        "select current_setting('lock_timeout') as lock_timeout",
      );
      await run("select set_config('lock_timeout', ?, true)", [`${Math.ceil(timeoutMs)}ms`]);
      try {
        await run(`select pg_advisory_xact_lock(${POSTGRESQL_MIGRATION_LOCK_KEY}::bigint)`);
      } catch (error) {
        throw lockError(timeoutMs, error);
      }
      await run("select set_config('lock_timeout', ?, true)", [current?.lock_timeout ?? '0']);
      return;
    }
    case 'mssql': {
      const [row] = await run<Array<{ result: number }>>(
        [
          'declare @result int;',
          `declare @resource nvarchar(255) = N'${MSSQL_MIGRATION_LOCK_RESOURCE}' + db_name();`,
          "exec @result = sp_getapplock @Resource = @resource, @LockMode = N'Exclusive',",
          `  @LockOwner = N'Transaction', @LockTimeout = ${Math.ceil(timeoutMs)};`,
          'select @result as result;',
        ].join('\n'),
      );
      const result = Number(row?.result);
      if (!(result >= 0)) {
        throw lockError(
          timeoutMs,
          new Error(`sp_getapplock returned ${row?.result}: ${APPLOCK_FAILURES[result] ?? 'unknown'}`),
        );
      }
      return;
    }
    case 'sqlite': {
      // better-sqlite3's connection-wide busy timeout, raised while waiting for the write lock.
      const [current] = await run<Array<{ timeout: number }>>('pragma busy_timeout');
      await run(`pragma busy_timeout = ${Math.ceil(timeoutMs)}`);
      try {
        await run(`create table "${SQLITE_MIGRATION_LOCK_TABLE}" ("id" integer)`);
        await run(`drop table "${SQLITE_MIGRATION_LOCK_TABLE}"`);
      } catch (error) {
        throw lockError(timeoutMs, error);
      } finally {
        await run(`pragma busy_timeout = ${Number(current?.timeout ?? 0)}`);
      }
      return;
    }
  }
}

function lockError(timeoutMs: number, cause: unknown): Error {
  return new Error(
    `could not take the migration lock within ${timeoutMs} ms (another instance is applying migrations?): ${
      cause instanceof Error ? cause.message : String(cause)
    }`,
    { cause },
  );
}
