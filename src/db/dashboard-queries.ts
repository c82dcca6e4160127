/**
 * The SQL of the two dashboards (getProcessDashboard, getProcessOverview), built with MikroORM's
 * QueryBuilder for all three dialects. Figures are aggregates computed by the database over every live
 * run of a process; only the embedded runs are a page (the newest ones, as `GET /runs` orders them by
 * default). `mssql-queries.ts` renders these builders offline so `make check-tsql` parses their T-SQL.
 *
 * QueryBuilders apply no filters: every query says `deleted_at is null` itself. Statuses are written as
 * stored (`'COMPLETED'`, enum-name.type.ts), since raw fragments bypass the column type.
 */
import { raw, sql } from '@mikro-orm/core';
import type { QueryBuilder, SqlEntityManager } from '@mikro-orm/sql';
import { ProcessRun, ProcessStepRun, RUN_STATUSES, type RunStatus } from '../entities/index.ts';
import type { Dialect } from './database-url.ts';
import { runPageQuery } from './run-queries.ts';

/** A row of `runStatisticsQuery`: drivers answer numbers, or strings for bigint and numeric. */
export type RunStatisticsRow = { total_runs: number | string; average_seconds: number | string | null } & {
  [S in RunStatus as `${S}_runs`]: number | string;
};

/** A row of `successRatesQuery`. */
export interface SuccessRateRow {
  run_id: number;
  step_runs: number | string;
  succeeded: number | string;
}

/** `finished_at - started_at` of run `r` in (fractional) seconds. */
function durationSeconds(dialect: Dialect): string {
  switch (dialect) {
    case 'sqlite':
      // Times are UTC text (sqlite-utc-text.ts), which julianday() reads, microseconds included.
      return '(julianday(r.finished_at) - julianday(r.started_at)) * 86400.0';
    case 'postgresql':
      return 'extract(epoch from (r.finished_at - r.started_at))';
    case 'mssql':
      // DATEDIFF in seconds would overflow int past 68 years and counts boundaries, not elapsed time.
      return 'datediff_big(millisecond, r.started_at, r.finished_at) / 1000.0';
  }
}

/**
 * One row over the live runs of process `processId`: `total_runs`, `<status>_runs` for every run status,
 * and `average_seconds`, the mean of `finished_at - started_at` over the completed runs that have both
 * times (null when there is none).
 */
export function runStatisticsQuery(em: SqlEntityManager, dialect: Dialect, processId: number) {
  const byStatus = RUN_STATUSES.map((status) =>
    raw(`coalesce(sum(case when r.status = '${status.toUpperCase()}' then 1 else 0 end), 0)`).as(
      `${status}_runs`,
    ),
  );
  const timed = "r.status = 'COMPLETED' and r.started_at is not null and r.finished_at is not null";
  return em
    .createQueryBuilder(ProcessRun, 'r')
    .select([
      raw('count(*)').as('total_runs'),
      ...byStatus,
      raw(`avg(case when ${timed} then ${durationSeconds(dialect)} end)`).as('average_seconds'),
    ])
    .where({ process: processId, deleted_at: null });
}

/**
 * The newest `limit` live runs of process `processId` (created_at, then id, descending): `GET /runs`'s
 * default order, so the dashboards embed the runs its first page shows.
 */
export function newestRunsQuery(
  em: SqlEntityManager,
  dialect: Dialect,
  processId: number,
  limit: number,
): QueryBuilder<ProcessRun, 'r'> {
  return runPageQuery(em, dialect, {
    filters: { process_id: processId },
    order: { column: 'created_at' },
    direction: 'desc',
    offset: 0,
    limit,
  });
}

/** A live step run `sr` that no live step run reruns: a current attempt (run-status.ts `currentAttempts`). */
const CURRENT_ATTEMPT =
  'not exists (select 1 from process_step_run nx where nx.rerun_of_id = sr.id and nx.deleted_at is null)';

/**
 * Per run of the page `newestRunsQuery(em, dialect, processId, limit)`, in one grouped query joined to that
 * page as a derived table (no id list, however large the page): how many current step runs it has and
 * how many of them are `success` or `optional`. Runs without current step runs have no row.
 */
export function successRatesQuery(em: SqlEntityManager, dialect: Dialect, processId: number, limit: number) {
  const page = newestRunsQuery(em, dialect, processId, limit).select(['r.id']);
  return em
    .createQueryBuilder(ProcessStepRun, 'sr')
    .select([
      'sr.run',
      raw('count(*)').as('step_runs'),
      raw("sum(case when sr.status in ('SUCCESS', 'OPTIONAL') then 1 else 0 end)").as('succeeded'),
    ])
    .join(page, 'pg', { 'pg.id': sql.ref('sr.run_id') })
    .where({ deleted_at: null, [raw(CURRENT_ATTEMPT)]: [] })
    .groupBy('sr.run');
}
