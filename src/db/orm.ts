/**
 * ORM lifecycle: create (and connect), apply migrations, close.
 *
 * Request handlers must use a forked EntityManager (`orm.em.fork()` or MikroORM's `RequestContext`):
 * the global `orm.em` refuses to work (`allowGlobalContext: false`).
 */
import type { MigrationInfo } from '@mikro-orm/core';
import { MikroORM, type AbstractSqlDriver, type SqlEntityManager } from '@mikro-orm/sql';
import { parseDatabaseUrl } from './database-url.ts';
import { buildOrmConfig, type BuildOrmConfigOptions } from './orm-config.ts';

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
      if (parsed.dialect === 'sqlite' && !parsed.inMemory) {
        // WAL lets readers proceed while a write is in progress; the mode is stored in the database file.
        await orm.em.fork().getConnection().execute('pragma journal_mode = WAL');
      }
    } catch (error) {
      await orm.close(true).catch(() => undefined);
      throw error;
    }
  }
  return orm;
}

/** Applies all pending migrations (in one transaction); returns the applied ones (empty when up to date). */
export async function migrateToLatest(orm: Orm): Promise<MigrationInfo[]> {
  return orm.migrator.up();
}

/** Names of migrations that exist on disk but are not applied yet. */
export async function pendingMigrations(orm: Orm): Promise<string[]> {
  return (await orm.migrator.getPending()).map((m) => m.name);
}

export async function closeOrm(orm: Orm): Promise<void> {
  await orm.close(true);
}
