/**
 * Schema consistency checks against a live database (used by the tests and usable in a health check):
 * - entities ↔ database: SQL MikroORM would run to make the database match the entities;
 * - snapshot ↔ database: SQL needed to turn the checked-in snapshot into the database schema, i.e.
 *   whether `.snapshot-<dialect>.json` really describes what the migrations created.
 * Both return '' when consistent. The migrations bookkeeping table is ignored by MikroORM.
 */
import { DatabaseSchema, SchemaComparator } from '@mikro-orm/sql';
import type { Orm } from './orm.ts';

/** SQL MikroORM would generate to bring the database to the entity schema ('' when in sync). */
export async function entitiesVsDatabaseSql(orm: Orm): Promise<string> {
  return (await orm.schema.getUpdateSchemaSQL({ wrap: false })).trim();
}

/** The schema recorded in the dialect's snapshot file (undefined when there is none). */
export async function loadSnapshotSchema(orm: Orm): Promise<DatabaseSchema | undefined> {
  // `getSchemaFromSnapshot` is protected in MikroORM's Migrator; it is the exact reader the migrator uses.
  const migrator = orm.migrator as unknown as {
    getSchemaFromSnapshot(): Promise<DatabaseSchema | undefined>;
  };
  return migrator.getSchemaFromSnapshot();
}

/** SQL that would turn the snapshot schema into the database schema ('' when the snapshot is exact). */
export async function snapshotVsDatabaseSql(orm: Orm): Promise<string> {
  const snapshot = await loadSnapshotSchema(orm);
  if (!snapshot) throw new Error('no migrations snapshot for this dialect');
  const platform = orm.em.getPlatform();
  const connection = orm.em.getConnection();
  const { skipTables, skipViews } = orm.config.get('schemaGenerator');
  const database = await DatabaseSchema.create(
    connection,
    platform,
    orm.config,
    undefined,
    undefined,
    undefined,
    skipTables,
    skipViews,
  );
  const diff = new SchemaComparator(platform).compare(snapshot, database);
  return orm.schema.diffToSQL(diff, { wrap: false, safe: false, dropTables: true }).trim();
}
