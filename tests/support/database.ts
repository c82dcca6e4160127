/**
 * Fresh, isolated databases for tests.
 *
 * - `TEST_DATABASE_URL` unset: a new SQLite database in a unique temporary folder (deleted by `dispose`).
 * - `TEST_DATABASE_URL=postgresql://user:pass@host:port/anydb` (a role with CREATEDB): a new uniquely
 *   named database on that server (dropped by `dispose`, after terminating its connections).
 *
 * Typical use, once per test file:
 *
 *   let db: TestDatabase; let orm: Orm;
 *   beforeAll(async () => ({ db, orm } = await createMigratedTestOrm()));
 *   afterAll(async () => { await closeOrm(orm); await db.dispose(); });
 *
 * Leftovers of crashed runs are named `pd_test_*` (PostgreSQL) / `pd-test-*` (temp dir).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDatabaseUrl, type Dialect } from '../../src/db/database-url.ts';
import { closeOrm, createOrm, migrateToLatest, type Orm } from '../../src/db/orm.ts';

export interface TestDatabase {
  url: string;
  dialect: Dialect;
  /** Removes the database. Close every ORM using it first. Safe to call twice. */
  dispose(): Promise<void>;
}

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
  return `pd_test_${Date.now().toString(36)}_${process.pid}_${randomBytes(4).toString('hex')}`;
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

/** Runs statements on the administration database named in `adminUrl` through MikroORM's own driver. */
export async function onAdminDatabase(
  adminUrl: string,
  statements: Array<[string, unknown[]]>,
): Promise<void> {
  const orm = await createOrm(adminUrl, { poolMax: 1 });
  try {
    const connection = orm.em.fork().getConnection();
    for (const [sql, params] of statements) {
      await connection.execute(sql, params);
    }
  } finally {
    await closeOrm(orm);
  }
}

async function createPostgresqlDatabase(adminUrl: string): Promise<TestDatabase> {
  const name = uniqueName();
  // Identifier made of [a-z0-9_] only, so quoting it is enough.
  await onAdminDatabase(adminUrl, [[`create database "${name}"`, []]]);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let disposed = false;
  return {
    url: url.toString(),
    dialect: 'postgresql',
    async dispose() {
      if (disposed) return;
      disposed = true;
      await onAdminDatabase(adminUrl, [
        [
          'select pg_terminate_backend(pid) from pg_stat_activity where datname = ? and pid <> pg_backend_pid()',
          [name],
        ],
        [`drop database if exists "${name}"`, []],
      ]);
    },
  };
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.TEST_DATABASE_URL?.trim();
  if (!adminUrl) return createSqliteDatabase();
  const dialect = parseDatabaseUrl(adminUrl).dialect;
  if (dialect !== 'postgresql') {
    throw new Error(
      `TEST_DATABASE_URL must be a postgresql:// URL (got a ${dialect} URL); unset it to test on SQLite`,
    );
  }
  return createPostgresqlDatabase(adminUrl);
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
