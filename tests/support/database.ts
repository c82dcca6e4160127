/**
 * Fresh, isolated databases for tests.
 *
 * - `TEST_DATABASE_URL` unset: a new SQLite database in a unique temporary folder (deleted by `dispose`).
 * - `TEST_DATABASE_URL=postgresql://user:pass@host:port/anydb` (a role with CREATEDB): a new uniquely
 *   named database on that server (dropped by `dispose`, after terminating its connections).
 * - `TEST_DATABASE_URL=mssql://user:pass@host:port/master?encrypt=…` (a login allowed to create
 *   databases; sysadmin on Babelfish, whose KILL needs it): the same on SQL Server or Babelfish for
 *   PostgreSQL (see dialect-gaps.ts for what Babelfish cannot do).
 *
 * Typical use, once per test file:
 *
 *   let db: TestDatabase; let orm: Orm;
 *   beforeAll(async () => ({ db, orm } = await createMigratedTestOrm()));
 *   afterAll(async () => { await closeOrm(orm); await db.dispose(); });
 *
 * Leftovers of crashed runs are named `pd_test_*` (PostgreSQL, SQL Server) / `pd-test-*` (temp dir).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDatabaseUrl, type Dialect } from '../../src/db/database-url.ts';
import { closeOrm, createOrm, migrateToLatest, migrateUpTo, type Orm } from '../../src/db/orm.ts';

export interface TestDatabase {
  url: string;
  dialect: Dialect;
  /** Removes the database. Close every ORM using it first. Safe to call twice. */
  dispose(): Promise<void>;
}

/** Prefix of every database the tests create; only such databases are ever dropped. */
export const TEST_DATABASE_PREFIX = 'pd_test_';

/** The server URL the tests create their databases on, or undefined for SQLite. */
export function testServerUrl(): string | undefined {
  return process.env['TEST_DATABASE_URL']?.trim() || undefined;
}

/** The dialect the suite runs on: that of TEST_DATABASE_URL, SQLite when it is unset. */
export function testDialect(): Dialect {
  const url = testServerUrl();
  return url ? parseDatabaseUrl(url).dialect : 'sqlite';
}

function uniqueName(): string {
  return `${TEST_DATABASE_PREFIX}${Date.now().toString(36)}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

function createSqliteDatabase(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'pd-test-'));
  return {
    url: `sqlite:${join(dir, 'test.sqlite')}`,
    dialect: 'sqlite',
    dispose() {
      // The folder also holds the -wal / -shm files of the database. Idempotent (force).
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}

/**
 * Runs statements on the administration database named in `adminUrl` through MikroORM's own driver, one
 * after the other, outside any transaction (CREATE / DROP DATABASE refuse to run in one); returns the
 * rows of each.
 */
export async function onAdminDatabase(
  adminUrl: string,
  statements: Array<[string, unknown[]]>,
): Promise<unknown[][]> {
  const orm = await createOrm(adminUrl, { poolMax: 1 });
  try {
    const connection = orm.em.fork().getConnection();
    const results: unknown[][] = [];
    for (const [sql, params] of statements) {
      const rows = await connection.execute<unknown[]>(sql, params);
      results.push(Array.isArray(rows) ? rows : []);
    }
    return results;
  } finally {
    await closeOrm(orm);
  }
}

const babelfishByUrl = new Map<string, Promise<boolean>>();

/**
 * Whether the SQL Server at `adminUrl` is Babelfish for PostgreSQL (T-SQL on PostgreSQL), asked once per
 * process (`@@VERSION` starts with "Babelfish for PostgreSQL" there).
 */
export function isBabelfish(adminUrl: string): Promise<boolean> {
  let answer = babelfishByUrl.get(adminUrl);
  if (answer === undefined) {
    answer = onAdminDatabase(adminUrl, [['select @@version as version', []]]).then(([rows]) => {
      const version = (rows?.[0] as { version?: unknown } | undefined)?.version;
      return typeof version === 'string' && /babelfish/i.test(version);
    });
    babelfishByUrl.set(adminUrl, answer);
  }
  return answer;
}

/** `url` with its database name replaced (query string, e.g. SQL Server's encrypt options, kept). */
function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

function assertTestDatabaseName(name: string): void {
  // Also what makes quoting the identifier enough: [a-z0-9_] only.
  if (!new RegExp(`^${TEST_DATABASE_PREFIX}[a-z0-9_]+$`).test(name)) {
    throw new Error(`refusing to touch "${name}": not a test database (${TEST_DATABASE_PREFIX}*)`);
  }
}

/**
 * Drops the test database `name` on the server of `adminUrl` right away, ending the sessions still using
 * it (also what tests/meta/health.test.ts uses to take a database away from a running server). Does
 * nothing when it does not exist.
 */
export async function dropServerDatabase(adminUrl: string, name: string): Promise<void> {
  assertTestDatabaseName(name);
  const dialect = parseDatabaseUrl(adminUrl).dialect;
  if (dialect === 'postgresql') {
    await onAdminDatabase(adminUrl, [
      [
        // Client sessions only: an autovacuum worker (a superuser process, which a test role may not
        // terminate) is told to stop by DROP DATABASE itself.
        "select pg_terminate_backend(pid) from pg_stat_activity where datname = ? and pid <> pg_backend_pid() and backend_type = 'client backend'",
        [name],
      ],
      [`drop database if exists "${name}"`, []],
    ]);
    return;
  }
  if (dialect !== 'mssql') throw new Error(`no server database to drop on ${dialect}`);
  if (!(await isBabelfish(adminUrl))) {
    // SQL Server: single-user mode rolls back and disconnects every other session, and keeps them out.
    await onAdminDatabase(adminUrl, [
      [
        `if db_id(N'${name}') is not null begin ` +
          `alter database [${name}] set single_user with rollback immediate; drop database [${name}]; end`,
        [],
      ],
    ]);
    return;
  }
  // Babelfish supports neither SINGLE_USER nor OFFLINE (its ALTER DATABASE only renames), and refuses to
  // drop a database another session is using: end those sessions (KILL, sysadmin only), then drop. A pool
  // may reconnect in between, hence the retries.
  for (let attempt = 1; ; attempt++) {
    const [sessions = []] = await onAdminDatabase(adminUrl, [
      [`select distinct spid from sys.sysprocesses where dbid = db_id(N'${name}') and spid <> @@spid`, []],
    ]);
    const kills = (sessions as Array<{ spid: number }>).map((s): [string, unknown[]] => [
      `kill ${Number(s.spid)}`,
      [],
    ]);
    try {
      await onAdminDatabase(adminUrl, [...kills, [`drop database if exists [${name}]`, []]]);
      return;
    } catch (error) {
      if (attempt >= 5 || !/in use/i.test(String(error))) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

async function createServerDatabase(
  adminUrl: string,
  dialect: 'postgresql' | 'mssql',
): Promise<TestDatabase> {
  const name = uniqueName();
  const quoted = dialect === 'postgresql' ? `"${name}"` : `[${name}]`;
  await onAdminDatabase(adminUrl, [[`create database ${quoted}`, []]]);
  let disposed = false;
  return {
    url: withDatabase(adminUrl, name),
    dialect,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await dropServerDatabase(adminUrl, name);
    },
  };
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = testServerUrl();
  if (!adminUrl) return createSqliteDatabase();
  const dialect = parseDatabaseUrl(adminUrl).dialect;
  if (dialect === 'sqlite') {
    throw new Error(
      'TEST_DATABASE_URL must be a postgresql:// or mssql:// server URL; unset it to test on SQLite',
    );
  }
  return createServerDatabase(adminUrl, dialect);
}

/**
 * SQL that renames a table, for tests that make a table vanish for a while: SQL Server (and Babelfish,
 * which needs the object type) has `sp_rename`, the others `alter table … rename to`.
 */
export function renameTableSql(dialect: Dialect, from: string, to: string): string {
  return dialect === 'mssql'
    ? `exec sp_rename N'${from}', N'${to}', 'OBJECT'`
    : `alter table ${from} rename to ${to}`;
}

/** A fresh database with all migrations applied, and an ORM connected to it. */
export async function createMigratedTestOrm(
  options: { debug?: boolean } = {},
): Promise<{ db: TestDatabase; orm: Orm }> {
  const db = await createTestDatabase();
  let orm: Orm | undefined;
  try {
    orm = await createOrm(db.url, { debug: options.debug ?? false, poolMax: 5 });
    await migrateToLatest(orm);
    return { db, orm };
  } catch (error) {
    if (orm) await closeOrm(orm).catch(() => undefined);
    await db.dispose().catch(() => undefined);
    throw error;
  }
}

/** A fixed time as a row written by raw SQL stores it (SQLite: the original's UTC text). */
export function storedTime(): string | Date {
  return testDialect() === 'sqlite' ? '2026-11-26 10:00:00.000000' : new Date('2026-11-26T10:00:00Z');
}

/** Rows another program (or an older version of this service) wrote: processes, then their runs. */
export interface RawRows {
  processes: { name: string; meta?: Record<string, unknown> }[];
  /** `process` is the 1-based position in `processes` (the ids a fresh database gives them). */
  runs: {
    process: number;
    status?: string;
    meta?: Record<string, unknown>;
    deleted?: boolean;
    /** As stored: on SQLite the UTC text (microseconds allowed), elsewhere a Date. */
    started_at?: string | Date;
    finished_at?: string | Date;
  }[];
}

/**
 * A fresh database migrated up to `migration`, with `rows` written by raw SQL, then migrated to the latest
 * migration; `check` gets its ORM. The database is dropped afterwards.
 */
export async function afterMigrationOver(
  migration: string,
  rows: RawRows,
  check: (orm: Orm) => Promise<void>,
): Promise<void> {
  const db = await createTestDatabase();
  const orm = await createOrm(db.url);
  try {
    await migrateUpTo(orm, migration);
    const connection = orm.em.fork().getConnection();
    const now = storedTime();
    for (const process of rows.processes) {
      await connection.execute(
        'insert into process (name, meta, created_at, updated_at) values (?, ?, ?, ?)',
        [process.name, JSON.stringify(process.meta ?? {}), now, now],
      );
    }
    for (const run of rows.runs) {
      await connection.execute(
        'insert into process_run (process_id, entity_id, status, meta, is_neutralized, created_at, updated_at, ' +
          'deleted_at, started_at, finished_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [
          run.process,
          '0101',
          run.status ?? 'PENDING',
          JSON.stringify(run.meta ?? {}),
          false,
          now,
          now,
          run.deleted === true ? now : null,
          run.started_at ?? null,
          run.finished_at ?? null,
        ],
      );
    }
    await migrateToLatest(orm);
    await check(orm);
  } finally {
    await closeOrm(orm);
    await db.dispose();
  }
}
