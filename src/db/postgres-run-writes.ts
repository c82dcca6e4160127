/**
 * PostgreSQL: the writes of the robots' two write calls, each in one statement.
 *
 * Why: every statement is a round trip to the database and back through the pool, the driver and
 * MikroORM — on the bench's two cores about as much CPU again as PostgreSQL spends executing it. A new run
 * was ten statements (`BEGIN` and `COMMIT` included), a step-run report five to seven; now both are four. PostgreSQL lets one
 * statement write several tables (`WITH … AS (INSERT/UPDATE …)`), so once the service knows what to write,
 * it writes it in one:
 * - a new run (`newRunSql`): the run, its step runs, its declared meta values (`process_run_field`) and
 *   its count (`process_run_count`), answering the step runs as stored;
 * - a report (`reportWritesSql`): the step run and the run's `updated_at`, and when the run's status moves,
 *   its status and times and its counts.
 *
 * What a call reads before it writes is one statement too: the process under its share lock with its live
 * steps (`lockProcessWithSteps`), the run under its lock with its live step runs (`lockRunOfStepRunWithSteps`).
 * PostgreSQL reads a whole statement in the snapshot it took when it began, and a lock it waited for
 * answers the locked row as its holder committed it, while the rest of the statement still reads the
 * snapshot — which then misses what the holder committed with the row. Every writer of a run's step runs
 * writes the run's row first (`lockRun`), and every writer of a process's live steps as a whole (a delete, a
 * restore) writes the process's row: so when the locked row is the version the snapshot has (the same
 * `xmin`, the transaction that wrote it), nothing was committed under it since, and the snapshot's rows are
 * current. When it is not (the statement waited for a writer), the rows are read again after the lock.
 *
 * The statements of one WITH see the same snapshot and not each other's rows: the step runs take the run's
 * id from the run's RETURNING, and the meta values are read from it (`indexRunFieldsSql`'s `source`), not
 * from `process_run`. The foreign keys are checked at the end of the statement, when every row is there.
 *
 * SQLite and SQL Server have no data-modifying WITH: there the same values go in the statements of
 * run.service.ts, one each (SQLite's are calls into the process, not round trips).
 */
import type { EntityName } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { Process, ProcessRun, ProcessStep, ProcessStepRun } from '../entities/index.ts';
import { placeholders, type SqlFragment } from './run-queries.ts';
import {
  liveStepsSql,
  rowRecords,
  stepRunRecordsSql,
  statementRecords,
  type RunRecord,
  type StepRunRecord,
} from './records.ts';
import type { ProcessRecord } from './run-fields.ts';

/**
 * At most this many step runs are inserted with their run in one statement (a process with more steps
 * takes the statements of the other databases): PostgreSQL takes 65,535 values a statement.
 */
export const MAX_STEP_RUNS_PER_STATEMENT = 1000;

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

/** The WITH of `parts` (name → data-modifying statement) and the statement that ends it. */
function withStatements(parts: readonly [string, SqlFragment][], last: SqlFragment): SqlFragment {
  return {
    sql: `with ${parts.map(([name, part]) => `${name} as (${part.sql})`).join(', ')} ${last.sql}`,
    params: [...parts.flatMap(([, part]) => part.params), ...last.params],
  };
}

/**
 * The statement of a new run: `run` (its properties but `id`), its step runs (`stepRuns`: their properties
 * but `id` and `run`), and the statements given that read the new run as `new_run r` (its meta values:
 * `indexRunFieldsSql` with `source` `new_run`) or need it not (its count). Answers one row per step run,
 * ordered by step_index and id, each with `new_run_id`; one row with only that when there are none.
 */
export function newRunSql(
  em: SqlEntityManager,
  run: Readonly<Record<string, unknown>>,
  stepRuns: readonly Readonly<Record<string, unknown>>[],
  also: readonly (SqlFragment | undefined)[],
): SqlFragment {
  const inserted = columnValues(em, ProcessRun, run);
  const parts: [string, SqlFragment][] = [
    [
      'new_run',
      {
        sql: `insert into process_run (${inserted.columns.join(', ')}) values (${placeholders(inserted.values)}) returning *`,
        params: inserted.values,
      },
    ],
  ];
  const rows = stepRuns.map((stepRun) => columnValues(em, ProcessStepRun, stepRun));
  const [first] = rows;
  if (first !== undefined) {
    parts.push([
      'new_step_runs',
      {
        sql:
          `insert into process_step_run (run_id, ${first.columns.join(', ')}) values ` +
          rows.map((row) => `((select id from new_run), ${placeholders(row.values)})`).join(', ') +
          ' returning *',
        params: rows.flatMap((row) => row.values),
      },
    ]);
  }
  also.forEach((statement, index) => {
    if (statement !== undefined) parts.push([`also_${index + 1}`, statement]);
  });
  return withStatements(parts, {
    sql:
      first === undefined
        ? 'select id as new_run_id from new_run'
        : 'select n.id as new_run_id, s.* from new_run n join new_step_runs s on true order by s.step_index, s.id',
    params: [],
  });
}

/** Runs `newRunSql`: the new run's id and its step runs as stored, as records. */
export async function insertNewRun(
  em: SqlEntityManager,
  run: Readonly<Record<string, unknown>>,
  stepRuns: readonly Readonly<Record<string, unknown>>[],
  also: readonly (SqlFragment | undefined)[],
): Promise<{ id: number; stepRuns: StepRunRecord[] }> {
  const { sql, params } = newRunSql(em, run, stepRuns, also);
  const rows = await em.execute<Record<string, unknown>[]>(sql, params, 'all');
  const [first] = rows;
  if (first === undefined) throw new Error('The insert of a run answered no row');
  const id = Number(first['new_run_id']);
  const stored = stepRuns.length === 0 ? [] : rows.map(({ new_run_id: _, ...stepRun }) => stepRun);
  return { id, stepRuns: rowRecords<StepRunRecord>(em, ProcessStepRun, stored) };
}

/** The UPDATE of `changes` (properties of `entity`) of the live row `id`. */
function updateSql(
  em: SqlEntityManager,
  entity: EntityName,
  table: string,
  id: number,
  changes: Readonly<Record<string, unknown>>,
): SqlFragment {
  const { columns, values } = columnValues(em, entity, changes);
  return {
    sql: `update ${table} set ${columns.map((column) => `${column} = ?`).join(', ')} where id = ? and deleted_at is null`,
    params: [...values, id],
  };
}

/**
 * The statement of a step-run report: `changes` of step run `stepRun.id` and of its run `run.id` (at least
 * its `updated_at`), and the count rows' UPDATE (`counts`) when the run's status moved.
 */
export function reportWritesSql(
  em: SqlEntityManager,
  stepRun: { id: number; changes: Readonly<Record<string, unknown>> },
  run: { id: number; changes: Readonly<Record<string, unknown>>; counts: SqlFragment | undefined },
): SqlFragment {
  const stepRunUpdate = updateSql(em, ProcessStepRun, 'process_step_run', stepRun.id, stepRun.changes);
  const runUpdate = updateSql(em, ProcessRun, 'process_run', run.id, run.changes);
  return run.counts === undefined
    ? withStatements([['step_run', stepRunUpdate]], runUpdate)
    : withStatements(
        [
          ['step_run', stepRunUpdate],
          ['run', runUpdate],
        ],
        run.counts,
      );
}

/** The prefix of the columns a statement here answers beside another table's rows. */
const OF = 'pd_';

/** The row of `row`'s columns named `${OF}<column>`, without the prefix; `row` keeps the others. */
function prefixed(row: Record<string, unknown>): Record<string, unknown> {
  const taken: Record<string, unknown> = {};
  for (const key of Object.keys(row)) {
    if (key.startsWith(OF)) {
      taken[key.slice(OF.length)] = row[key];
      delete row[key];
    }
  }
  return taken;
}

/**
 * The rows of `sql` (each `entity`'s columns with the prefixed columns of the locked row) split into the
 * locked row (`fresh`: whether it is the snapshot's version) and the records of `entity` (none where the
 * outer join found none).
 */
async function lockedWithRows<T>(
  em: SqlEntityManager,
  entity: EntityName,
  statement: SqlFragment,
): Promise<{ locked: Record<string, unknown>; fresh: boolean; rows: T[] } | undefined> {
  const rows = await em.execute<Record<string, unknown>[]>(statement.sql, [...statement.params], 'all');
  const [first] = rows;
  if (first === undefined) return undefined;
  const taken = rows.map(prefixed);
  const { fresh, ...locked } = taken[0]!;
  return {
    locked,
    fresh: fresh === true,
    rows: rowRecords<T>(
      em,
      entity,
      rows.filter((row) => row['id'] != null),
    ),
  };
}

/** The live steps a new run copies. */
export type StepToRun = Pick<ProcessStep, 'id' | 'index' | 'is_rerunnable' | 'rerun_config'>;

/** The statement of `lockProcessWithSteps`. */
export function lockProcessWithStepsSql(em: SqlEntityManager, processId: number): SqlFragment {
  const index = em.getPlatform().quoteIdentifier('index');
  return {
    sql:
      `select p.xmin = (select v.xmin from process v where v.id = p.id) as ${OF}fresh, p.id as ${OF}id, ` +
      `p.name as ${OF}name, p.meta as ${OF}meta, p.retention_months as ${OF}retention_months, ` +
      `p.deleted_at as ${OF}deleted_at, s.* from process p ` +
      'left join process_step s on s.process_id = p.id and s.deleted_at is null ' +
      `where p.id = ? order by s.${index}, s.id for share of p`,
    params: [processId],
  };
}

/**
 * The process `processId` (deleted or not; undefined when there is none) under a share lock held to the
 * end of the transaction (`lockProcessMeta`'s), with its live steps in index order, read after the lock.
 */
export async function lockProcessWithSteps(
  em: SqlEntityManager,
  processId: number,
): Promise<{ process: ProcessRecord; steps: StepToRun[] } | undefined> {
  const read = await lockedWithRows<StepToRun>(em, ProcessStep, lockProcessWithStepsSql(em, processId));
  if (read === undefined) return undefined;
  const [process] = rowRecords<ProcessRecord>(em, Process, [read.locked]);
  const steps = read.fresh
    ? read.rows
    : await statementRecords<StepToRun>(em, ProcessStep, liveStepsSql(em.getPlatform(), processId));
  return { process: process!, steps };
}

/** The run a report locks: what its status moves from. */
export type LockedRun = Pick<RunRecord, 'id' | 'process' | 'status' | 'started_at' | 'finished_at'>;

/** The statement of `lockRunOfStepRunWithSteps`. */
export function lockRunOfStepRunWithStepsSql(stepRunId: number): SqlFragment {
  return {
    sql:
      `select r.xmin = (select v.xmin from process_run v where v.id = r.id) as ${OF}fresh, r.id as ${OF}id, ` +
      `r.process_id as ${OF}process_id, r.status as ${OF}status, r.started_at as ${OF}started_at, ` +
      `r.finished_at as ${OF}finished_at, s.* from process_run r ` +
      'left join process_step_run s on s.run_id = r.id and s.deleted_at is null ' +
      'where r.id = (select t.run_id from process_step_run t where t.id = ? and t.deleted_at is null) ' +
      'and r.deleted_at is null order by s.step_index, s.id for no key update of r',
    params: [stepRunId],
  };
}

/**
 * `lockRunOfStepRun` in one statement on PostgreSQL: locks the live run of the live step run `stepRunId`
 * (`for no key update`, the lock its write of `updated_at` takes; `reportWritesSql` writes it) and answers
 * it with its live step runs read after the lock. Undefined when the step run or its run does not exist or
 * is soft-deleted.
 */
export async function lockRunOfStepRunWithSteps(
  em: SqlEntityManager,
  stepRunId: number,
): Promise<{ run: LockedRun; stepRuns: StepRunRecord[] } | undefined> {
  const read = await lockedWithRows<StepRunRecord>(
    em,
    ProcessStepRun,
    lockRunOfStepRunWithStepsSql(stepRunId),
  );
  if (read === undefined) return undefined;
  const [run] = rowRecords<LockedRun>(em, ProcessRun, [read.locked]);
  const stepRuns = read.fresh
    ? read.rows
    : await statementRecords<StepRunRecord>(em, ProcessStepRun, stepRunRecordsSql([run!.id]));
  return { run: run!, stepRuns };
}
