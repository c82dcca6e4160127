/**
 * Set-based statements of the data lifecycle (soft delete, restore, retention), one statement per table
 * whatever the number of rows, so none approaches SQL Server's 2,100-parameter limit. Built with
 * MikroORM's QueryBuilder; `mssql-queries.ts` renders them offline so `make check-tsql` parses their T-SQL.
 *
 * QueryBuilders apply no filters: every statement names the rows it touches itself.
 */
import { raw, type EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { Process, ProcessRun, ProcessStep, ProcessStepRun } from '../entities/index.ts';
import type { Dialect } from './database-url.ts';
import { statementRecords } from './records.ts';
import { recountRuns } from './run-counts.ts';
import type { SqlFragment } from './run-queries.ts';
import { unindexProcess } from './run-fields.ts';

/** What one soft delete writes: its time and the token shared by every row it hides. */
export interface Deletion {
  deleted_at: Date;
  deletion_token: string;
}

/** Statements hiding the live process `processId` with its live steps, runs and step runs. */
export function deleteProcessStatements(em: SqlEntityManager, processId: number, deletion: Deletion) {
  return [
    em.createQueryBuilder(Process).update(deletion).where({ id: processId, deleted_at: null }),
    em.createQueryBuilder(ProcessStep).update(deletion).where({ process: processId, deleted_at: null }),
    em.createQueryBuilder(ProcessRun).update(deletion).where({ process: processId, deleted_at: null }),
    em
      .createQueryBuilder(ProcessStepRun)
      .update(deletion)
      .where({
        deleted_at: null,
        [raw('run_id in (select r.id from process_run r where r.process_id = ?)', [processId])]: [],
      }),
  ];
}

/** The SELECT of process `processId`, deleted or not (records of Process). */
export function processSql(processId: number): SqlFragment {
  return { sql: 'select * from process where id = ?', params: [processId] };
}

/**
 * Hides what a concurrent delete of process `processId` may have missed, if the process is deleted: its
 * live steps, runs and step runs, under the process's own deletion time and token. True when the process
 * is deleted (or gone).
 *
 * Why it closes the race without locks (which Babelfish ignores, and MVCC databases do not take on a
 * plain read): the delete calls this after it commits, and so does every creation of a step or run after
 * it commits. Either the creator's check sees the delete committed (and hides its own rows), or it ran
 * before the delete committed — then the creator had committed before the delete's own check started, and
 * that check's statements see its rows. Each statement reads what was committed before it began
 * (READ COMMITTED or stronger on all three databases).
 */
export async function hideUnderDeletedProcess(em: EntityManager, processId: number): Promise<boolean> {
  const fresh = em.fork();
  const [process] = await statementRecords<Pick<Process, 'deleted_at' | 'deletion_token'>>(
    fresh as SqlEntityManager,
    Process,
    processSql(processId),
  );
  if (process === undefined) return true;
  if (process.deleted_at === null || process.deleted_at === undefined) return false;
  const deletion: Deletion = {
    deleted_at: process.deleted_at,
    deletion_token: process.deletion_token ?? `adopted-process-${processId}`,
  };
  await fresh.transactional(async (tx) => {
    const [, ...cascade] = deleteProcessStatements(tx as SqlEntityManager, processId, deletion);
    for (const statement of cascade) await statement.execute('run');
    await recountRuns(tx, processId);
    await unindexProcess(tx, processId);
  });
  return true;
}

/** Statements hiding the live run `runId` with its live step runs. */
export function deleteRunStatements(em: SqlEntityManager, runId: number, deletion: Deletion) {
  return [
    em.createQueryBuilder(ProcessRun).update(deletion).where({ id: runId, deleted_at: null }),
    em.createQueryBuilder(ProcessStepRun).update(deletion).where({ run: runId, deleted_at: null }),
  ];
}

/**
 * Statements bringing back exactly the rows one delete hid: those carrying its `deletionToken` (a UUID
 * per delete). Rows hidden by another delete, before or after, keep their own token and stay hidden.
 */
export function restoreStatements(em: SqlEntityManager, deletionToken: string) {
  const restored = { deleted_at: null, deletion_token: null };
  const where = { deletion_token: deletionToken };
  return [
    em.createQueryBuilder(Process).update(restored).where(where),
    em.createQueryBuilder(ProcessStep).update(restored).where(where),
    em.createQueryBuilder(ProcessRun).update(restored).where(where),
    em.createQueryBuilder(ProcessStepRun).update(restored).where(where),
  ];
}

/**
 * `created_at` plus `?` calendar months, in UTC, a day that the target month lacks becoming its last day
 * (31 January + 1 month = 28/29 February), as `addCalendarMonths` computes it for new runs:
 * - SQLite: times are the original's UTC text (sqlite-utc-text.ts); the date part moves with the
 *   `floor` modifier (SQLite ≥ 3.46) and the time of day, microseconds included, is kept as written;
 * - PostgreSQL: month intervals clamp to the month's last day; computed in UTC, whatever the session's
 *   time zone;
 * - SQL Server: DATEADD(month) clamps the same way.
 */
function plusMonths(dialect: Dialect): string {
  switch (dialect) {
    case 'sqlite':
      return "strftime('%Y-%m-%d', created_at, '+' || ? || ' months', 'floor') || substr(created_at, 11)";
    case 'postgresql':
      return "(created_at at time zone 'UTC' + make_interval(months => ?)) at time zone 'UTC'";
    case 'mssql':
      return 'dateadd(month, ?, created_at)';
  }
}

/**
 * Sets `scheduled_deletion_at` of every run of process `processId` (soft-deleted runs too, so a restored
 * run is scheduled by the current retention) to `created_at` + `months`, or null: one statement. Plain SQL,
 * not a QueryBuilder: for a computed value MikroORM would return every updated row (OUTPUT/RETURNING),
 * which for a process with a million runs is a million rows nobody reads.
 */
export function rescheduleRunsSql(
  dialect: Dialect,
  processId: number,
  months: number | null,
): { sql: string; params: unknown[] } {
  if (months === null) {
    return {
      sql: 'update process_run set scheduled_deletion_at = null where process_id = ?',
      params: [processId],
    };
  }
  return {
    sql: `update process_run set scheduled_deletion_at = ${plusMonths(dialect)} where process_id = ?`,
    params: [months, processId],
  };
}

/** Reschedules every run of process `processId` for `months` of retention (null: none), one statement. */
export async function rescheduleRuns(
  em: EntityManager,
  dialect: Dialect,
  processId: number,
  months: number | null,
): Promise<void> {
  const { sql, params } = rescheduleRunsSql(dialect, processId, months);
  await (em as SqlEntityManager).execute(sql, params, 'run');
}
