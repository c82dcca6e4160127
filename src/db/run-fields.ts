/**
 * `process_run_field`: the values of each run's declared meta fields (src/entities/process-run-field.entity.ts).
 *
 * Why: a JSON value has no B-tree index on any of the three databases, so `meta_filter` and a process's
 * filter metadata read the JSON of every live run in range — at a million runs seconds on SQLite, whose
 * synchronous driver holds the event loop meanwhile. These rows give both an index.
 *
 * What is in it: for each run, one row per indexed field of its process (`indexedMetaFields` in meta-fields.ts: the
 * first `MAX_INDEXED_META_FIELDS` fields the process declares in `run_metadata_schema`) whose text is not
 * null (`metaText`: the field is there and not JSON null). For a string, number or boolean the value is
 * computed by the database with the very expression `meta_filter` compares (`metaScalarText`), so the
 * index answers exactly what reading the JSON answers on each dialect; a text longer than
 * `INDEXED_VALUE_LENGTH`, and a JSON object or array (which PostgreSQL and SQLite sort as their JSON
 * text), are stored as null (filters on such values read the JSON). So a sort by the field reads the index
 * too (run-field-order.ts): a run without a row sorts last.
 *
 * Only live runs have rows, so a count by value reads this index alone. How it stays exact — every write
 * of a run's `meta` or liveness changes its rows in the same transaction:
 * - a new run, a metadata change, a neutralisation (GDPR: the personal data leaves these rows too), a run
 *   restored on its own: `indexRunFields`; a run deleted on its own: `unindexRun`;
 * - a process whose declared fields change, or which is deleted or restored (or whose runs are hidden
 *   under its delete): its rows are rebuilt (`reindexProcessFields`), as the migration that created the
 *   table, an adoption and `make recount-runs` do.
 */
import type { EntityManager, Platform } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { Dialect } from './database-url.ts';
import { Process } from '../entities/index.ts';
import { statementRecords } from './records.ts';
import { metaText, placeholders, unicodeParams, type SqlFragment } from './run-queries.ts';
import { metaScalarText } from './run-search-queries.ts';

/** Longest value text (characters; UTF-16 code units on SQL Server) stored in `process_run_field.value`. */
export const INDEXED_VALUE_LENGTH = 400;

/**
 * At most this many processes are named in one indexed filter (a filter without `process_id` names every
 * process); with more, the filter reads the JSON.
 */
export const MAX_INDEXED_PROCESSES = 500;

/**
 * Whether the text `sql` fits `value` (nvarchar(400) on SQL Server, varchar(400) elsewhere), as each
 * database measures it. SQL Server counts UTF-16 code units (datalength: 2 bytes each; len() ignores
 * trailing spaces); Babelfish stores nvarchar as PostgreSQL's varchar, which counts code points, and its
 * datalength() counts UTF-8 bytes — so on SQL Server both are asked, each sufficient where it is exact.
 */
function fitsValue(dialect: Dialect, sql: string): string {
  return dialect === 'mssql'
    ? `(len(${sql} + N'.') - 1 <= ${INDEXED_VALUE_LENGTH} and datalength(${sql}) <= ${2 * INDEXED_VALUE_LENGTH})`
    : `length(${sql}) <= ${INDEXED_VALUE_LENGTH}`;
}

/**
 * The INSERT that indexes `fields` of the runs matching `where` (SQL on `process_run r`; on `source r`
 * instead when given: the run a PostgreSQL statement inserts, postgres-run-writes.ts), or undefined
 * without fields. One SELECT per field, UNION ALL; a row wherever the field's text (`metaText`) is not
 * null, with `value` null where that text is not a scalar's or too long: so a run without a row has a
 * null text (what a sort by the field needs to know, run-field-order.ts).
 */
export function indexRunFieldsSql(
  platform: Platform,
  dialect: Dialect,
  fields: readonly string[],
  where: SqlFragment,
  source = 'process_run',
): SqlFragment | undefined {
  if (fields.length === 0) return undefined;
  const branches = fields.map((field) => {
    const value = metaScalarText(dialect, field);
    const text = metaText(dialect, field);
    return {
      sql: `select r.id as run_id, r.process_id as process_id, ? as field, ${value.sql} as v, ${text.sql} as t from ${source} r where ${where.sql}`,
      params: [...unicodeParams(platform, [field, ...value.params, ...text.params]), ...where.params],
    };
  });
  return {
    sql:
      'insert into process_run_field (run_id, process_id, field, value) select x.run_id, x.process_id, x.field, ' +
      `(case when x.v is not null and ${fitsValue(dialect, 'x.v')} then x.v end) ` +
      `from (${branches.map((branch) => branch.sql).join(' union all ')}) x where x.t is not null ` +
      // A row another transaction committed meanwhile holds the same value (see reindexRunIfFieldsChanged).
      'and not exists (select 1 from process_run_field e where e.run_id = x.run_id and e.field = x.field)',
    params: branches.flatMap((branch) => branch.params),
  };
}

/** Runs a statement of this file (`mssql-queries.ts` renders them for `make check-tsql`). */
async function execute(em: EntityManager, statement: SqlFragment | undefined): Promise<void> {
  if (statement !== undefined) await (em as SqlEntityManager).execute(statement.sql, statement.params, 'run');
}

/** The DELETE of `unindexProcess`. */
function unindexProcessSql(processId: number): SqlFragment {
  return { sql: 'delete from process_run_field where process_id = ?', params: [processId] };
}

/** Removes the rows of every run of process `processId` (deleted, or its runs hidden under its delete). */
export async function unindexProcess(em: EntityManager, processId: number): Promise<void> {
  await execute(em, unindexProcessSql(processId));
}

/** Removes the rows of run `runId` (deleted). */
export async function unindexRun(em: EntityManager, runId: number): Promise<void> {
  await execute(em, { sql: 'delete from process_run_field where run_id = ?', params: [runId] });
}

/**
 * Rewrites the rows of run `runId` from its stored `meta` (flushed before), for `fields` (its process's
 * `indexedMetaFields`); none when the run is deleted. `fresh`: the run is new and has no rows yet.
 */
export async function indexRunFields(
  em: EntityManager,
  dialect: Dialect,
  runId: number,
  fields: readonly string[],
  options: { fresh?: boolean } = {},
): Promise<void> {
  if (options.fresh !== true) await unindexRun(em, runId);
  await execute(
    em,
    indexRunFieldsSql(em.getPlatform(), dialect, fields, {
      sql: 'r.id = ? and r.deleted_at is null',
      params: [runId],
    }),
  );
}

/** The statements that rebuild the rows of every live run of process `processId` for `fields`. */
export function reindexProcessFieldsSql(
  platform: Platform,
  dialect: Dialect,
  processId: number,
  fields: readonly string[],
): SqlFragment[] {
  const insert = indexRunFieldsSql(platform, dialect, fields, {
    sql: 'r.process_id = ? and r.deleted_at is null',
    params: [processId],
  });
  return [unindexProcessSql(processId), ...(insert === undefined ? [] : [insert])];
}

/** Rebuilds the rows of every live run of process `processId` for `fields`. */
export async function reindexProcessFields(
  em: EntityManager,
  dialect: Dialect,
  processId: number,
  fields: readonly string[],
): Promise<void> {
  for (const statement of reindexProcessFieldsSql(em.getPlatform(), dialect, processId, fields)) {
    await execute(em, statement);
  }
}

/**
 * Whether a `meta_filter` on these values can be answered by the index: a run's value equal to each of them
 * is stored in `value` on every database (`fitsValue`: at most `INDEXED_VALUE_LENGTH` UTF-16 code units
 * and twice that in UTF-8 bytes, the strictest of their measures), and it is not a JSON object or array
 * as text (those have no value in the index; a string starting with `{` or `[` reads the JSON too,
 * correctly).
 */
export function indexableValues(values: readonly string[]): boolean {
  return values.every(
    (value) =>
      value.length <= INDEXED_VALUE_LENGTH &&
      Buffer.byteLength(value, 'utf8') <= 2 * INDEXED_VALUE_LENGTH &&
      !value.startsWith('{') &&
      !value.startsWith('['),
  );
}

/** The statement of `lockProcessMeta` (`columns` = `meta`) and of `lockProcessRecord` (`*`). */
export function lockProcessMetaSql(
  dialect: Dialect,
  processId: number,
  columns: 'meta' | '*' = 'meta',
): SqlFragment {
  const lock = { postgresql: ['', ' for share'], mssql: [' with (holdlock)', ''], sqlite: ['', ''] }[dialect];
  return { sql: `select ${columns} from process${lock[0]} where id = ?${lock[1]}`, params: [processId] };
}

/** The statement of `touchProcessRow`. */
export function touchProcessRowSql(processId: number): SqlFragment {
  return { sql: 'update process set name = name where id = ? and deleted_at is null', params: [processId] };
}

/**
 * Writes the row of the live process `processId` (if there is one) without changing a value, in the
 * transaction `tx`, for a change of what a new run copies that is not in the row itself (a new step). The
 * row gets a new version, which PostgreSQL's new runs see: they are written only while the process is the
 * version they read (postgres-run-writes.ts). And the row stays locked until `tx` ends, so a new run on any
 * database waits for the change instead of being written without it. Taken first in `tx`.
 */
export async function touchProcessRow(tx: EntityManager, processId: number): Promise<void> {
  const { sql, params } = touchProcessRowSql(processId);
  await (tx as SqlEntityManager).execute(sql, params, 'run');
}

/** What a record of `process` has: its columns, with no collections (`steps`) as an entity has. */
export type ProcessRecord = Pick<Process, 'id' | 'name' | 'meta' | 'retention_months' | 'deleted_at'>;

/**
 * `lockProcessMeta`'s read and lock, answering the whole process (deleted or not) as a record, or
 * undefined when there is none: one statement where a transaction needs the process too (a new run).
 */
export async function lockProcessRecord(
  em: EntityManager,
  dialect: Dialect,
  processId: number,
): Promise<ProcessRecord | undefined> {
  const statement = lockProcessMetaSql(dialect, processId, '*');
  const [process] = await statementRecords<ProcessRecord>(em as SqlEntityManager, Process, statement);
  return process;
}

/**
 * The stored `meta` of process `processId` (deleted or not; undefined when there is none), read under a
 * shared lock on its row held to the end of the transaction (SQLite's writer lock serialises anyway).
 * A change of a process's declared fields writes the row, so it waits for the transactions that index runs
 * of the process with the fields they read here, and they wait for it: its rebuild sees all their runs, and
 * they index with the fields it wrote. Taken before any other lock of the transaction, so two transactions
 * never wait for each other crosswise.
 */
export async function lockProcessMeta(
  em: EntityManager,
  dialect: Dialect,
  processId: number,
): Promise<Record<string, unknown> | undefined> {
  const { sql, params } = lockProcessMetaSql(dialect, processId);
  const [row] = await (em as SqlEntityManager).execute<{ meta: unknown }[]>(sql, params, 'all');
  return row === undefined ? undefined : storedObject(row.meta);
}

/** A JSON object column as a raw query returns it (text, or parsed by the driver); `{}` for anything else. */
export function storedObject(value: unknown): Record<string, unknown> {
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : {};
}

/**
 * The number of live runs of these processes whose indexed fields have one of their values each (`meta`:
 * field → values, fields all indexed in every one of the processes, values passing `indexableValues`),
 * counted in the index alone: only live runs have rows. The first field's range, then a probe by run
 * and field for each further one.
 */
export function indexedMetaCountSql(
  platform: Platform,
  processIds: readonly number[],
  meta: ReadonlyMap<string, readonly string[]>,
): SqlFragment {
  const [[field, values] = ['', []], ...more] = [...meta];
  const probes = more.map(([moreField, moreValues], index) => ({
    sql:
      ` and exists (select 1 from process_run_field m${index + 1} where m${index + 1}.run_id = m0.run_id` +
      ` and m${index + 1}.field = ? and m${index + 1}.value in (${placeholders(moreValues)}))`,
    params: unicodeParams(platform, [moreField, ...moreValues]),
  }));
  return {
    sql:
      `select count(*) as count from process_run_field m0 where m0.process_id in (${placeholders(processIds)}) ` +
      `and m0.field = ? and m0.value in (${placeholders(values)})${probes.map((probe) => probe.sql).join('')}`,
    params: [
      ...processIds,
      ...unicodeParams(platform, [field, ...values]),
      ...probes.flatMap((p) => p.params),
    ],
  };
}
