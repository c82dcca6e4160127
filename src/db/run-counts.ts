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
 * Incremental changes touch the rows of one process in one UPDATE, which locks them in index order, so
 * two transactions never wait on each other's rows crosswise (no deadlock). The rows of a process are
 * a hot spot only for runs of that one process changing at the same moment; each holds them from its
 * UPDATE to its commit, which is its last statement.
 *
 * Rows exist for every process this service created (ProcessService.create writes them) or that a
 * migration, an adoption or a recount found. A process without rows (written by another program into
 * the same tables) is counted the slow way (`countedTotal` answers undefined), never wrongly.
 *
 * Statuses are written as stored (`'PENDING'`, enum-name.type.ts): raw SQL bypasses the column type.
 */
import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { RUN_STATUSES, type RunStatus } from '../entities/index.ts';
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
 * The statements that count the live runs of process `processId` (every process when undefined) again,
 * creating its rows where they are missing. The migration `…_run_counts` runs the same statements.
 */
export function recountRunsSql(processId?: number): SqlFragment[] {
  const one = processId !== undefined;
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
        'update process_run_count set run_count = (select count(*) from process_run r where ' +
        'r.process_id = process_run_count.process_id and r.status = process_run_count.status and ' +
        `r.deleted_at is null)${one ? ' where process_id = ?' : ''}`,
      params: one ? [processId] : [],
    },
  ];
}

/** Counts the live runs of `processId` (or of every process) again: after set-based hides and restores. */
export async function recountRuns(em: EntityManager, processId?: number): Promise<void> {
  for (const statement of recountRunsSql(processId)) await execute(em, statement);
}

/** The UPDATE that adds `by` (a status → change map) to the counts of process `processId`; none for no change. */
export function adjustRunCountsSql(
  processId: number,
  by: Partial<Record<RunStatus, number>>,
): SqlFragment | undefined {
  const changes = Object.entries(by).filter(([, change]) => change !== 0) as [RunStatus, number][];
  if (changes.length === 0) return undefined;
  const cases = changes.map(([status]) => `when ${stored(status)} then ?`).join(' ');
  const statuses = changes.map(([status]) => stored(status)).join(', ');
  return {
    sql:
      `update process_run_count set run_count = run_count + (case status ${cases} else 0 end) ` +
      `where process_id = ? and status in (${statuses})`,
    params: [...changes.map(([, change]) => change), processId],
  };
}

/** Adds `by` (a status → change map) to the counts of process `processId`, in one UPDATE. */
export async function adjustRunCounts(
  em: EntityManager,
  processId: number,
  by: Partial<Record<RunStatus, number>>,
): Promise<void> {
  const statement = adjustRunCountsSql(processId, by);
  if (statement !== undefined) await execute(em, statement);
}

/** A run's status moved from `from` to `to` (nothing when they are the same). */
export function runStatusChanged(
  em: EntityManager,
  processId: number,
  from: RunStatus,
  to: RunStatus,
): Promise<void> {
  return from === to ? Promise.resolve() : adjustRunCounts(em, processId, { [from]: -1, [to]: 1 });
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
      'select c.status, c.run_count from process_run_count c join process p on p.id = c.process_id ' +
      'where p.deleted_at is null and p.id = ?',
    params: [processId],
  };
}

/** The live runs of live process `processId` per status, or undefined when it has no count rows. */
export async function countsOfProcess(
  em: EntityManager,
  processId: number,
): Promise<Record<RunStatus, number> | undefined> {
  const { sql, params } = countsOfProcessSql(processId);
  const rows = await (em as SqlEntityManager).execute<{ status: string; run_count: number | string }[]>(
    sql,
    params,
    'all',
  );
  if (rows.length === 0) return undefined;
  const counts = Object.fromEntries(RUN_STATUSES.map((status) => [status, 0])) as Record<RunStatus, number>;
  for (const row of rows) {
    const status = row.status.toLowerCase() as RunStatus;
    if (status in counts) counts[status] = Number(row.run_count);
  }
  return counts;
}
