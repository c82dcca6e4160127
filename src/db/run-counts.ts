/**
 * `process_run_count`: the number of live runs per process and status (src/entities/process-run-count.entity.ts).
 *
 * Why: `total` is exact, and counting the runs of a list read every matching index entry — at a million
 * runs 40–60 ms on PostgreSQL for an unfiltered list, on every page. A list filtered by nothing but
 * process and status, and the dashboards' counts, read a handful of these rows instead.
 *
 * How it stays exact: every change to a run's process, status or liveness adjusts the rows in the same
 * transaction —
 * - a new run: +1 `pending` (run.service.ts `create`);
 * - a status change: −1 old, +1 new, in one statement (`recomputeRunStatus`);
 * - a run deleted or restored on its own: −1 / +1 of its status (lifecycle.service.ts);
 * - a process deleted or restored, or runs hidden under a deleted process: its rows are counted again
 *   (`recountRuns`), as the migration that created the table did for every process.
 * Incremental changes touch the rows of one process in one UPDATE, which locks them in status order
 * (`adjustRunCountsSql`), so two transactions never wait on each other's rows crosswise (no deadlock). The
 * rows of a process are a hot spot only for runs of that one process changing at the same moment; each
 * holds them from its UPDATE to its commit, which is its last statement.
 *
 * Rows exist for every process this service created (ProcessService.create writes them) or that a
 * migration, an adoption or a recount found. A process without rows (written by another program into
 * the same tables) is counted the slow way (`countedTotal` answers undefined), never wrongly.
 *
 * Durations: each row also holds how many of its runs have both `started_at` and `finished_at`
 * (`timed_count`) and the sum of their `finished_at − started_at` in milliseconds (`duration_ms_sum`).
 * They move with the run count, in the same statements: a run's times change only with its status
 * (run-status.ts `applyRunStatus`), so a status change moves the run's duration from its old row to its new
 * one (`runMoved`), a delete or restore takes it out or puts it back, and a recount sums them again. The
 * dashboards' average completion time is then `duration_ms_sum / timed_count` of the `COMPLETED` row.
 *
 * Statuses are written as stored (`'PENDING'`, enum-name.type.ts): raw SQL bypasses the column type.
 */
import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { RUN_STATUSES, type RunStatus } from '../entities/index.ts';
import { emDialect, type Dialect } from './database-url.ts';
import type { SqlFragment } from './run-queries.ts';

const stored = (status: RunStatus) => `'${status.toUpperCase()}'`;

/** One row per run status, as a derived table `s(status)` every dialect understands. */
const STATUS_ROWS = RUN_STATUSES.map((status) => `select ${stored(status)} as status`).join(' union all ');

/** Runs a statement of this file (`mssql-queries.ts` renders them for `make check-tsql`). */
function execute(em: EntityManager, { sql, params }: SqlFragment): Promise<unknown> {
  return (em as SqlEntityManager).execute(sql, params, 'run');
}

/** The zero rows of a new process (no runs yet). */
export function addRunCountRowsSql(processId: number): SqlFragment {
  return {
    sql: `insert into process_run_count (process_id, status, run_count) select ?, s.status, 0 from (${STATUS_ROWS}) s`,
    params: [processId],
  };
}

/** Creates the zero rows of a new process (no runs yet). */
export async function addRunCountRows(em: EntityManager, processId: number): Promise<void> {
  await execute(em, addRunCountRowsSql(processId));
}

/**
 * `finished_at − started_at` of the run `r` in whole milliseconds, on each database, from the times cut to
 * milliseconds as the service reads them into Dates (a time the original stored with microseconds loses
 * them), so it equals the duration `runCountChange` takes from the run as read; null when a time is missing.
 */
export function durationMsSql(dialect: Dialect): string {
  switch (dialect) {
    case 'sqlite':
      // The stored UTC text (sqlite-utc-text.ts) to its milliseconds; julianday()'s double is exact to well
      // under a millisecond, which the rounding removes.
      return (
        'cast(round((julianday(substr(r.finished_at, 1, 23)) - julianday(substr(r.started_at, 1, 23))) ' +
        '* 86400000.0) as integer)'
      );
    case 'postgresql':
      return (
        "cast(extract(epoch from (date_trunc('milliseconds', r.finished_at) - " +
        "date_trunc('milliseconds', r.started_at))) * 1000 as bigint)"
      );
    case 'mssql':
      // Millisecond boundaries crossed: the difference of the times cut to milliseconds.
      return 'datediff_big(millisecond, r.started_at, r.finished_at)';
  }
}

/**
 * The statements that count the live runs of process `processId` (every process when undefined) again,
 * with their durations, creating its rows where they are missing. The migrations `…_run_counts` and
 * `…_run_durations` run the same statements.
 */
export function recountRunsSql(dialect: Dialect, processId?: number): SqlFragment[] {
  const one = processId !== undefined;
  const runsOfRow =
    'from process_run r where r.process_id = process_run_count.process_id and ' +
    'r.status = process_run_count.status and r.deleted_at is null';
  const timed = 'and r.started_at is not null and r.finished_at is not null';
  return [
    {
      sql:
        'insert into process_run_count (process_id, status, run_count) select p.id, s.status, 0 ' +
        `from process p cross join (${STATUS_ROWS}) s where ${one ? 'p.id = ? and ' : ''}not exists ` +
        '(select 1 from process_run_count c where c.process_id = p.id and c.status = s.status)',
      params: one ? [processId] : [],
    },
    {
      sql:
        `update process_run_count set run_count = (select count(*) ${runsOfRow}), ` +
        `timed_count = (select count(*) ${runsOfRow} ${timed}), ` +
        `duration_ms_sum = (select coalesce(sum(${durationMsSql(dialect)}), 0) ${runsOfRow} ${timed})` +
        (one ? ' where process_id = ?' : ''),
      params: one ? [processId] : [],
    },
  ];
}

/** Counts the live runs of `processId` (or of every process) again: after set-based hides and restores. */
export async function recountRuns(em: EntityManager, processId?: number): Promise<void> {
  for (const statement of recountRunsSql(emDialect(em), processId)) await execute(em, statement);
}

/** A change of one count row: runs, and of them the timed ones with their duration (milliseconds). */
export interface RunCountChange {
  runs: number;
  timed: number;
  durationMs: number;
}

/** A run's part of its status's count row: itself, and its duration when it has both times. */
export interface CountedRun {
  status: RunStatus;
  started_at?: Date | null;
  finished_at?: Date | null;
}

/** The change of `run`'s count row when it comes (`sign` 1) or goes (−1). */
function runCountChange(run: CountedRun, sign: 1 | -1): RunCountChange {
  if (run.started_at == null || run.finished_at == null) return { runs: sign, timed: 0, durationMs: 0 };
  return {
    runs: sign,
    timed: sign,
    durationMs: sign * (run.finished_at.getTime() - run.started_at.getTime()),
  };
}

/** `runCountChange` of `run`, by its status: for `adjustRunCounts`. */
export function countedRun(run: CountedRun, sign: 1 | -1): Partial<Record<RunStatus, RunCountChange>> {
  return { [run.status]: runCountChange(run, sign) };
}

/**
 * The UPDATE that adds `by` (status → change) to the count rows of process `processId`; none for no change.
 *
 * Two transactions that each move a run of the same process lock the same rows, so each must lock them in
 * the same order, or each may hold one and wait for the other's (a deadlock). SQL Server seeks the rows
 * in the primary key's order and SQLite has one writer; PostgreSQL reads a table this small in its
 * physical order, which differs between snapshots as rows get new versions. There the rows are locked
 * first, sorted by status (`for update` in a sub-select, which PostgreSQL does not merge into the UPDATE),
 * and the UPDATE writes the rows it then holds. `onlyIf`: SQL of a condition of the whole UPDATE (the rows
 * are locked only when it holds).
 */
export function adjustRunCountsSql(
  dialect: Dialect,
  processId: number,
  by: Partial<Record<RunStatus, RunCountChange>>,
  onlyIf?: string,
): SqlFragment | undefined {
  const changes = (Object.entries(by) as [RunStatus, RunCountChange][]).filter(
    ([, change]) => change.runs !== 0 || change.timed !== 0 || change.durationMs !== 0,
  );
  if (changes.length === 0) return undefined;
  const ordered = dialect === 'postgresql';
  const row = ordered ? 'c.' : '';
  const cases = changes.map(([status]) => `when ${stored(status)} then ?`).join(' ');
  const added = (column: string) => `${column} = ${row}${column} + (case ${row}status ${cases} else 0 end)`;
  const statuses = changes.map(([status]) => stored(status)).join(', ');
  const timed = changes.some(([, change]) => change.timed !== 0 || change.durationMs !== 0);
  const condition = onlyIf === undefined ? '' : ` and ${onlyIf}`;
  const where = ordered
    ? ' from (select l.process_id, l.status from process_run_count l where l.process_id = ? ' +
      `and l.status in (${statuses})${condition} order by l.status for update) l ` +
      'where c.process_id = l.process_id and c.status = l.status'
    : ` where process_id = ? and status in (${statuses})${condition}`;
  return {
    sql:
      `update process_run_count${ordered ? ' c' : ''} set ${added('run_count')}` +
      (timed ? `, ${added('timed_count')}, ${added('duration_ms_sum')}` : '') +
      where,
    params: [
      ...changes.map(([, change]) => change.runs),
      ...(timed
        ? [...changes.map(([, change]) => change.timed), ...changes.map(([, change]) => change.durationMs)]
        : []),
      processId,
    ],
  };
}

/** Adds `by` (status → change) to the count rows of process `processId`, in one UPDATE. */
export async function adjustRunCounts(
  em: EntityManager,
  processId: number,
  by: Partial<Record<RunStatus, RunCountChange>>,
): Promise<void> {
  const statement = adjustRunCountsSql(emDialect(em), processId, by);
  if (statement !== undefined) await execute(em, statement);
}

/**
 * The UPDATE of the count rows when a run of process `processId` moved from `before` (its status and
 * times then) to `run`'s status and times now: out of its old row, into its new one (none when neither
 * changed). `onlyIf`: see `adjustRunCountsSql`.
 */
export function runMovedSql(
  dialect: Dialect,
  processId: number,
  before: CountedRun,
  run: CountedRun,
  onlyIf?: string,
): SqlFragment | undefined {
  const by = countedRun(before, -1);
  const out = by[run.status];
  const into = runCountChange(run, 1);
  by[run.status] =
    out === undefined
      ? into
      : {
          runs: out.runs + into.runs,
          timed: out.timed + into.timed,
          durationMs: out.durationMs + into.durationMs,
        };
  return adjustRunCountsSql(dialect, processId, by, onlyIf);
}

/** `runMovedSql`, run: the run moved out of its old count row into its new one, in one UPDATE. */
export async function runMoved(
  em: EntityManager,
  processId: number,
  before: CountedRun,
  run: CountedRun,
): Promise<void> {
  const statement = runMovedSql(emDialect(em), processId, before, run);
  if (statement !== undefined) await execute(em, statement);
}

/**
 * The number of live runs of live processes — of `processId` only when given, of these statuses only
 * when given — from the counts, or undefined when a live process in range has no count rows (then the
 * caller counts the runs).
 */
export async function countedTotal(
  em: EntityManager,
  filters: { process_id?: number; statuses?: readonly RunStatus[] },
): Promise<number | undefined> {
  const { sql, params } = countedTotalSql(filters);
  const [row] = await (em as SqlEntityManager).execute<
    { total: number | string; uncounted: number | string }[]
  >(sql, params, 'all');
  if (row === undefined || Number(row.uncounted) > 0) return undefined;
  return Number(row.total);
}

/** The query of `countedTotal`: the total, and how many live processes in range have no count rows. */
export function countedTotalSql(filters: {
  process_id?: number;
  statuses?: readonly RunStatus[];
}): SqlFragment {
  const processCondition = filters.process_id === undefined ? '' : ' and p.id = ?';
  const statuses =
    filters.statuses === undefined || filters.statuses.length === 0
      ? ''
      : ` and c.status in (${[...new Set(filters.statuses)].map(stored).join(', ')})`;
  return {
    sql:
      'select (select coalesce(sum(c.run_count), 0) from process_run_count c join process p on p.id = c.process_id ' +
      `where p.deleted_at is null${processCondition}${statuses}) as total, ` +
      `(select count(*) from process p where p.deleted_at is null${processCondition} and not exists ` +
      '(select 1 from process_run_count c where c.process_id = p.id)) as uncounted',
    params: filters.process_id === undefined ? [] : [filters.process_id, filters.process_id],
  };
}

/** The query of `countsOfProcess`. */
export function countsOfProcessSql(processId: number): SqlFragment {
  return {
    sql:
      'select c.status, c.run_count, c.timed_count, c.duration_ms_sum from process_run_count c ' +
      'join process p on p.id = c.process_id ' +
      'where p.deleted_at is null and p.id = ?',
    params: [processId],
  };
}

/** The live runs of a process per status, and the duration of its timed completed runs. */
export interface ProcessRunCounts {
  counts: Record<RunStatus, number>;
  /** Completed runs with both times, and the sum of their durations in milliseconds. */
  completedTimed: number;
  completedDurationMs: number;
}

/** The live runs of live process `processId` per status, or undefined when it has no count rows. */
export async function countsOfProcess(
  em: EntityManager,
  processId: number,
): Promise<ProcessRunCounts | undefined> {
  const { sql, params } = countsOfProcessSql(processId);
  const rows = await (em as SqlEntityManager).execute<
    {
      status: string;
      run_count: number | string;
      timed_count: number | string;
      duration_ms_sum: number | string;
    }[]
  >(sql, params, 'all');
  if (rows.length === 0) return undefined;
  const counts = Object.fromEntries(RUN_STATUSES.map((status) => [status, 0])) as Record<RunStatus, number>;
  let completedTimed = 0;
  let completedDurationMs = 0;
  for (const row of rows) {
    const status = row.status.toLowerCase() as RunStatus;
    if (status in counts) counts[status] = Number(row.run_count);
    if (status === 'completed') {
      completedTimed = Number(row.timed_count);
      completedDurationMs = Number(row.duration_ms_sum);
    }
  }
  return { counts, completedTimed, completedDurationMs };
}
