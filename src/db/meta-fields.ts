/** The run-meta fields a process declares (`meta.run_metadata_schema`), and which of them are indexed. */
import type { EntityManager, Platform } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { Dialect } from './database-url.ts';
import { lockRow } from './row-lock.ts';
import {
  indexRunFields,
  lockProcessMeta,
  reindexProcessFields,
  reindexProcessFieldsSql,
  storedObject,
} from './run-fields.ts';
import { isMetaField, type SqlFragment } from './run-queries.ts';

/** At most this many declared fields of a process are indexed in `process_run_field` (the first ones). */
export const MAX_INDEXED_META_FIELDS = 20;

/** A run-meta field a process declares in `meta.run_metadata_schema`. */
export interface DeclaredMetaField {
  name: string;
  /** The declared type name (free text); a declared value that is not a string, as JSON. */
  type: string;
}

/**
 * The run-meta fields declared in a process's `meta.run_metadata_schema`, in declaration order. Only
 * names `GET /runs` accepts in `meta_filter` and `order_by=meta.<field>` (`isMetaField`: letters,
 * digits, `_`, `-`) count: the others could be neither filtered, sorted nor searched.
 */
export function declaredMetaFields(processMeta: Record<string, unknown>): DeclaredMetaField[] {
  const schema = processMeta['run_metadata_schema'];
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return [];
  return Object.entries(schema as Record<string, unknown>)
    .filter(([name]) => isMetaField(name))
    .map(([name, type]) => ({ name, type: typeof type === 'string' ? type : JSON.stringify(type) }));
}

/**
 * The declared fields whose values `process_run_field` holds for the process's runs (src/db/run-fields.ts):
 * the first `MAX_INDEXED_META_FIELDS` declared, one of each name ignoring case (SQL Server compares the
 * index's field names so, and a run has one row per field).
 */
export function indexedMetaFields(processMeta: Record<string, unknown>): string[] {
  const seen = new Set<string>();
  const fields: string[] = [];
  for (const { name } of declaredMetaFields(processMeta)) {
    if (fields.length === MAX_INDEXED_META_FIELDS) break;
    const folded = name.toLowerCase();
    if (seen.has(folded)) continue;
    seen.add(folded);
    fields.push(name);
  }
  return fields;
}

/**
 * The statements that rebuild `process_run_field` for every process (src/db/run-fields.ts), from the
 * processes `read` returns (`select id, meta from process`, meta as stored): what the migration that
 * created the table, an adoption and `make recount-runs` run.
 */
export async function reindexAllRunFieldsSql(
  read: (sql: string) => Promise<{ id: number | string; meta: unknown }[]>,
  platform: Platform,
  dialect: Dialect,
): Promise<SqlFragment[]> {
  const statements: SqlFragment[] = [];
  for (const row of await read('select id, meta from process order by id')) {
    const fields = indexedMetaFields(storedObject(row.meta));
    statements.push(...reindexProcessFieldsSql(platform, dialect, Number(row.id), fields));
  }
  return statements;
}

/** Rebuilds `process_run_field` for every process (`reindexAllRunFieldsSql`) in the transaction `em`. */
export async function reindexAllRunFields(em: EntityManager, dialect: Dialect): Promise<void> {
  const sql = em as SqlEntityManager;
  const statements = await reindexAllRunFieldsSql(
    (query) => sql.execute(query, [], 'all'),
    em.getPlatform(),
    dialect,
  );
  for (const statement of statements) await sql.execute(statement.sql, statement.params, 'run');
}

/**
 * After a committed transaction indexed run `runId` of process `processId` with `fields`: when the process's
 * indexed fields are other ones now, indexes the run again with them, in a transaction of its own.
 *
 * On SQL Server's dialect only. The share lock of `lockProcessMeta` orders these transactions against a
 * change of the fields on PostgreSQL and SQL Server (and SQLite writes one transaction at a time), but
 * Babelfish, which speaks SQL Server's dialect, ignores lock hints. There this check, and the change
 * rebuilding once more after it commits (`reindexProcessAfterCommit`), keep the index exact: whichever
 * commits last sees the other's work (each statement reads what was committed before it began), and an
 * insert skips the rows a run's own transaction committed meanwhile (the same values: same meta, same
 * expression), so the rebuild does not collide with them.
 */
export async function reindexRunIfFieldsChanged(
  em: EntityManager,
  dialect: Dialect,
  processId: number,
  runId: number,
  fields: readonly string[],
): Promise<void> {
  if (dialect !== 'mssql') return;
  const current = indexedMetaFields((await lockProcessMeta(em.fork(), dialect, processId)) ?? {});
  if (current.join('\n') === fields.join('\n')) return;
  await em.fork().transactional(async (tx) => {
    // A write lock on the process's row, which Babelfish does honour, orders this against the change
    // itself and the other passes like this one.
    await lockRow(tx, 'process', processId);
    const now = indexedMetaFields((await lockProcessMeta(tx, dialect, processId)) ?? {});
    await indexRunFields(tx, dialect, runId, now);
  });
}

/**
 * After a change of process `processId`'s indexed fields committed: rebuilds its rows once more with the
 * fields it has now, for the runs created while the change ran. SQL Server's dialect only (see
 * `reindexRunIfFieldsChanged`).
 */
export async function reindexProcessAfterCommit(
  em: EntityManager,
  dialect: Dialect,
  processId: number,
): Promise<void> {
  if (dialect !== 'mssql') return;
  await em.fork().transactional(async (tx) => {
    await lockRow(tx, 'process', processId);
    const fields = indexedMetaFields((await lockProcessMeta(tx, dialect, processId)) ?? {});
    await reindexProcessFields(tx, dialect, processId, fields);
  });
}
