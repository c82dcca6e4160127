/**
 * PostgreSQL: a new run and a step-run report in two statements each, without a transaction of their own.
 *
 * Why: every statement is a round trip to the database and back through the pool, the driver and
 * MikroORM — on the bench's two cores about as much CPU again as PostgreSQL spends executing it. A new run
 * was ten statements (`BEGIN` and `COMMIT` included), a step-run report five to seven.
 *
 * How: a call first reads what it needs in one statement, with no lock — the process with its live steps
 * (`readProcessWithSteps`), the run of the step run with its live step runs (`readRunOfStepRunWithSteps`) —
 * together with the version of the row it depends on (its `xmin`: the transaction that wrote that version).
 * The service derives what to write from that, as it would under a lock. Then one statement writes it all
 * (`WITH … AS (INSERT/UPDATE …)`), on the condition that the row is still that version; it holds the row's
 * lock while it writes (a share lock on the process, the update's lock on the run) and commits on its own:
 * - a new run (`newRunSql`): the run, its step runs, its declared meta values (`process_run_field`) and its
 *   count (`process_run_count`), answering the step runs as stored;
 * - a report (`reportWritesSql`): the run's `updated_at` (and its status and times, when they move), the
 *   step run, and the counts when the status moved.
 *
 * Why the version suffices: every writer of a run's step runs writes the run's row first (`lockRun`), in
 * the same transaction; every writer of a process that changes what a new run copies (its declared fields,
 * its retention, a delete, a restore, a new step: `touchProcessRow`) writes the process's row. So when the
 * row is still the version read, nothing that the derivation read has been committed since. When it is
 * not — or its writer still holds it, and the write waits for it and then finds a new version — nothing is
 * written, and the service does the call again the way SQLite and SQL Server do it: in a transaction that
 * locks the row first, then reads (a robot racing another writer of the same run or process, or an
 * operator).
 *
 * A new run usually takes one statement: the service keeps what it read of a process and writes the next
 * runs of that process on it (`RunService`), on the same condition; a read is taken again when it fails.
 * So does a report: the server keeps each run as it last wrote it, with the version its statement gave the
 * row (kept-runs.ts), and the next report on the run writes on that.
 *
 * Within one WITH, the statements see the same snapshot and not each other's rows: the step runs take the
 * run's id from the run's RETURNING, the meta values are read from it (`indexRunFieldsSql`'s `source`), and
 * the rest is written only when the guarded row was (`exists (select 1 from …)`). Foreign keys are checked
 * at the end of the statement, when every row is there. PostgreSQL runs the statements the main query
 * reads first (the guarded row's lock), the others after it (the count rows): the lock order of the
 * transactions.
 */
import type { EntityName } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { Process, ProcessRun, ProcessStep, ProcessStepRun } from '../entities/index.ts';
import { placeholders, type SqlFragment } from './run-queries.ts';
import { rowRecords, type RunRecord, type StepRunRecord } from './records.ts';
import { adjustRunCountsSql, countedRun, type CountedRun } from './run-counts.ts';
import { indexRunFieldsSql, type ProcessRecord } from './run-fields.ts';

/** The prefix of the columns a statement here answers beside another table's rows. */
const OF = 'pd_';

/**
 * At most this many step runs are written with their run in one statement (one INSERT each); a process with
 * more steps takes the statements of the other databases.
 */
export const MAX_STEP_RUNS_PER_STATEMENT = 100;

/**
 * The quoted columns of `data`'s properties (of `entity`) and their values as the database stores them:
 * each converted by its property's type (JSON as its text, a status as its stored name), as MikroORM's
 * insert and update convert them. A relation is its id.
 */
function columnValues(
  em: SqlEntityManager,
  entity: EntityName,
  data: Readonly<Record<string, unknown>>,
): { columns: string[]; values: unknown[] } {
  const meta = em.getMetadata().get(entity);
  const platform = em.getPlatform();
  const columns: string[] = [];
  const values: unknown[] = [];
  for (const [name, value] of Object.entries(data)) {
    const prop = meta.properties[name];
    const [column, ...more] = prop?.fieldNames ?? [];
    if (column === undefined || more.length > 0)
      throw new Error(`${meta.className}.${name} is not one column`);
    columns.push(platform.quoteIdentifier(column));
    values.push(
      value == null || prop?.customType === undefined
        ? (value ?? null)
        : prop.customType.convertToDatabaseValue(value, platform, { mode: 'query' }),
    );
  }
  return { columns, values };
}

/** The WITH of `parts` (name → statement) and the statement that ends it. */
function withStatements(parts: readonly [string, SqlFragment][], last: SqlFragment): SqlFragment {
  return {
    sql: `with ${parts.map(([name, part]) => `${name} as (${part.sql})`).join(', ')} ${last.sql}`,
    params: [...parts.flatMap(([, part]) => part.params), ...last.params],
  };
}

/**
 * `INSERT … SELECT` of `data` into `table`, one row per row of `from` (the values typed by the table's
 * columns), with `extra` (a column and the SQL of its value) first; answers the rows as stored (and
 * `returning` more, e.g. a system column).
 */
function insertFrom(
  em: SqlEntityManager,
  entity: EntityName,
  table: string,
  data: Readonly<Record<string, unknown>>,
  from: string,
  extra?: { column: string; value: string },
  returning = '*',
): SqlFragment {
  const { columns, values } = columnValues(em, entity, data);
  const names = extra === undefined ? columns : [extra.column, ...columns];
  const selected = extra === undefined ? placeholders(values) : `${extra.value}, ${placeholders(values)}`;
  return {
    sql: `insert into ${table} (${names.join(', ')}) select ${selected} from ${from} returning ${returning}`,
    params: values,
  };
}

/** The version a statement is written on: the row of process `processId` as `version` (its xmin). */
export interface ProcessVersion {
  processId: number;
  version: string;
}

/** A new run's row (its properties but `id`): what `newRunSql` inserts and counts. */
export type NewRunRow = Readonly<Record<string, unknown>> & CountedRun & { readonly process: number };

/**
 * The statement of a new run: `run`, its step runs (`stepRuns`: their properties but `id` and `run`), its
 * values of the declared meta `fields` (`indexRunFieldsSql`, reading the inserted run) and its count. With
 * `unchanged`, all of it only while the process is that version, under a share lock on its row. Answers
 * one row per step run ordered by step_index and id, each with `new_run_id` and `new_run_version` (the run
 * row's xmin), or one row with only those when there are none; no row when nothing was written.
 */
export function newRunSql(
  em: SqlEntityManager,
  run: NewRunRow,
  stepRuns: readonly Readonly<Record<string, unknown>>[],
  fields: readonly string[],
  unchanged?: ProcessVersion,
): SqlFragment {
  const parts: [string, SqlFragment][] = [];
  if (unchanged !== undefined) {
    parts.push([
      'process_version',
      {
        sql: 'select id from process where id = ? and xmin = ? and deleted_at is null for share',
        params: [unchanged.processId, unchanged.version],
      },
    ]);
  }
  parts.push([
    'new_run',
    insertFrom(
      em,
      ProcessRun,
      'process_run',
      run,
      unchanged === undefined ? '(select 1) one' : 'process_version',
      undefined,
      `*, xmin as ${OF}version`,
    ),
  ]);
  const steps = stepRuns.map((stepRun, index): [string, SqlFragment] => [
    `new_step_run_${index + 1}`,
    insertFrom(em, ProcessStepRun, 'process_step_run', stepRun, 'new_run n', {
      column: 'run_id',
      value: 'n.id',
    }),
  ]);
  parts.push(...steps);
  const live = { sql: 'r.deleted_at is null', params: [] };
  const indexed = indexRunFieldsSql(em.getPlatform(), 'postgresql', fields, live, 'new_run');
  if (indexed !== undefined) parts.push(['new_run_fields', indexed]);
  const counted = adjustRunCountsSql(
    'postgresql',
    run.process,
    countedRun(run, 1),
    'exists (select 1 from new_run)',
  );
  if (counted !== undefined) parts.push(['new_run_count', counted]);
  const stepRows = steps.map(([name]) => `select * from ${name}`).join(' union all ');
  return withStatements(parts, {
    sql:
      steps.length === 0
        ? `select id as new_run_id, ${OF}version as new_run_version from new_run`
        : `select n.id as new_run_id, n.${OF}version as new_run_version, s.* from new_run n join (${stepRows}) s on true order by s.step_index, s.id`,
    params: [],
  });
}

/**
 * Runs `newRunSql`: the new run's id and version (its row's xmin) and its step runs as stored, as records;
 * undefined when the process was not `unchanged` (nothing written).
 */
export async function insertNewRun(
  em: SqlEntityManager,
  run: NewRunRow,
  stepRuns: readonly Readonly<Record<string, unknown>>[],
  fields: readonly string[],
  unchanged?: ProcessVersion,
): Promise<{ id: number; version: string; stepRuns: StepRunRecord[] } | undefined> {
  const { sql, params } = newRunSql(em, run, stepRuns, fields, unchanged);
  const rows = await em.execute<Record<string, unknown>[]>(sql, params, 'all');
  const [first] = rows;
  if (first === undefined) return undefined;
  const id = Number(first['new_run_id']);
  const version = String(first['new_run_version']);
  const stored =
    stepRuns.length === 0
      ? []
      : rows.map(({ new_run_id: _id, new_run_version: _version, ...stepRun }) => stepRun);
  return { id, version, stepRuns: rowRecords<StepRunRecord>(em, ProcessStepRun, stored) };
}

/** The UPDATE of `changes` (properties of `entity`) of the live row `id` of `table`, and `condition`. */
function updateSql(
  em: SqlEntityManager,
  entity: EntityName,
  table: string,
  id: number,
  changes: Readonly<Record<string, unknown>>,
  condition: SqlFragment,
): SqlFragment {
  const { columns, values } = columnValues(em, entity, changes);
  return {
    sql: `update ${table} set ${columns.map((column) => `${column} = ?`).join(', ')} where id = ? and deleted_at is null${condition.sql}`,
    params: [...values, id, ...condition.params],
  };
}

/**
 * The condition, in `reportWritesSql`, that its run was written: what its count rows' UPDATE is to be
 * given (`onlyIf` of `adjustRunCountsSql`).
 */
export const REPORTED_RUN_WRITTEN = 'exists (select 1 from run)';

/**
 * The statement of a step-run report: `changes` of its run `run.id` (at least its `updated_at`) — with
 * `version`, only while the run is that version (its xmin) — and then `changes` of step run `stepRun.id` and
 * the count rows' UPDATE (`run.counts`, with `onlyIf` `REPORTED_RUN_WRITTEN`) when the status moved.
 * Answers the run's id and its new version (`version`: the xmin this statement's transaction gave it), or
 * no row when nothing was written.
 */
export function reportWritesSql(
  em: SqlEntityManager,
  stepRun: { id: number; changes: Readonly<Record<string, unknown>> },
  run: {
    id: number;
    changes: Readonly<Record<string, unknown>>;
    counts: SqlFragment | undefined;
    version?: string;
  },
): SqlFragment {
  const version =
    run.version === undefined ? { sql: '', params: [] } : { sql: ' and xmin = ?', params: [run.version] };
  const runUpdate = updateSql(em, ProcessRun, 'process_run', run.id, run.changes, version);
  const written = { sql: ` and ${REPORTED_RUN_WRITTEN}`, params: [] };
  const parts: [string, SqlFragment][] = [
    ['run', { sql: `${runUpdate.sql} returning id, xmin`, params: runUpdate.params }],
    ['step_run', updateSql(em, ProcessStepRun, 'process_step_run', stepRun.id, stepRun.changes, written)],
  ];
  if (run.counts !== undefined) parts.push(['counts', run.counts]);
  return withStatements(parts, { sql: 'select id, xmin as version from run', params: [] });
}

/** Runs `reportWritesSql`: the run's new version (its xmin), or undefined when nothing was written. */
export async function writeReport(...args: Parameters<typeof reportWritesSql>): Promise<string | undefined> {
  const [em] = args;
  const { sql, params } = reportWritesSql(...args);
  const [written] = await em.execute<{ version: unknown }[]>(sql, params, 'all');
  return written === undefined ? undefined : String(written.version);
}

/**
 * The rows of `statement` (each `entity`'s columns, with the prefixed columns of the row they depend on)
 * split into that row (`version`: its xmin) and the records of `entity` (none where the outer join found
 * none); undefined without rows.
 */
async function rowWithRecords<T>(
  em: SqlEntityManager,
  entity: EntityName,
  statement: SqlFragment,
): Promise<{ row: Record<string, unknown>; version: string; records: T[] } | undefined> {
  const rows = await em.execute<Record<string, unknown>[]>(statement.sql, [...statement.params], 'all');
  if (rows.length === 0) return undefined;
  const [first] = rows.map((row) => {
    const taken: Record<string, unknown> = {};
    for (const key of Object.keys(row)) {
      if (key.startsWith(OF)) {
        taken[key.slice(OF.length)] = row[key];
        delete row[key];
      }
    }
    return taken;
  });
  const { version, ...row } = first!;
  const records = rowRecords<T>(
    em,
    entity,
    rows.filter((record) => record['id'] != null),
  );
  return { row, version: String(version), records };
}

/** The live steps a new run copies. */
export type StepToRun = Pick<ProcessStep, 'id' | 'index' | 'is_rerunnable' | 'rerun_config'>;

/** The statement of `readProcessWithSteps`. */
export function readProcessWithStepsSql(em: SqlEntityManager, processId: number): SqlFragment {
  const index = em.getPlatform().quoteIdentifier('index');
  return {
    sql:
      `select p.xmin as ${OF}version, p.id as ${OF}id, p.name as ${OF}name, p.meta as ${OF}meta, ` +
      `p.retention_months as ${OF}retention_months, p.deleted_at as ${OF}deleted_at, s.* from process p ` +
      'left join process_step s on s.process_id = p.id and s.deleted_at is null ' +
      `where p.id = ? order by s.${index}, s.id`,
    params: [processId],
  };
}

/**
 * The process `processId` (deleted or not; undefined when there is none) as `version` (for `newRunSql`),
 * with its live steps in index order.
 */
export async function readProcessWithSteps(
  em: SqlEntityManager,
  processId: number,
): Promise<{ process: ProcessRecord; version: ProcessVersion; steps: StepToRun[] } | undefined> {
  const read = await rowWithRecords<StepToRun>(em, ProcessStep, readProcessWithStepsSql(em, processId));
  if (read === undefined) return undefined;
  const [process] = rowRecords<ProcessRecord>(em, Process, [read.row]);
  return { process: process!, version: { processId, version: read.version }, steps: read.records };
}

/** The run a report moves: what its status moves from. */
export type ReportedRun = Pick<RunRecord, 'id' | 'process' | 'status' | 'started_at' | 'finished_at'>;

/** The statement of `readRunOfStepRunWithSteps`. */
export function readRunOfStepRunWithStepsSql(stepRunId: number): SqlFragment {
  return {
    sql:
      `select r.xmin as ${OF}version, r.id as ${OF}id, r.process_id as ${OF}process_id, r.status as ${OF}status, ` +
      `r.started_at as ${OF}started_at, r.finished_at as ${OF}finished_at, s.* from process_run r ` +
      'left join process_step_run s on s.run_id = r.id and s.deleted_at is null ' +
      'where r.id = (select t.run_id from process_step_run t where t.id = ? and t.deleted_at is null) ' +
      'and r.deleted_at is null order by s.step_index, s.id',
    params: [stepRunId],
  };
}

/**
 * The live run of the live step run `stepRunId` as `version` (for `reportWritesSql`), with its live step
 * runs (every attempt, ordered by step_index and id); undefined when there is none.
 */
export async function readRunOfStepRunWithSteps(
  em: SqlEntityManager,
  stepRunId: number,
): Promise<{ run: ReportedRun; version: string; stepRuns: StepRunRecord[] } | undefined> {
  const read = await rowWithRecords<StepRunRecord>(
    em,
    ProcessStepRun,
    readRunOfStepRunWithStepsSql(stepRunId),
  );
  if (read === undefined) return undefined;
  const [run] = rowRecords<ReportedRun>(em, ProcessRun, [read.row]);
  return { run: run!, version: read.version, stepRuns: read.records };
}
