/**
 * The claim of the rerun queue (src/reruns/rerun-queue.ts): one UPDATE that takes up to `limit` due jobs
 * for one worker, marking them with the claim's token. Plain SQL per dialect, because the way to skip rows
 * another worker is claiming differs:
 * - PostgreSQL: the candidates are selected `FOR UPDATE SKIP LOCKED`, once, in a materialised CTE;
 * - SQL Server: `WITH (UPDLOCK, READPAST, ROWLOCK)`, the same semantics (Hangfire's queue does this);
 * - SQLite: one writer at a time holds the database, so the statement alone is the claim.
 *
 * The UPDATE repeats the due condition on the rows it changes. Where the hints are ignored (Babelfish) or
 * a candidate was claimed between the subquery and the update, the database re-checks the row it waited
 * for (READ COMMITTED on PostgreSQL re-reads it, SQL Server's update lock does the same) and leaves it: a
 * job is claimed by one worker per lease, which is why the caller reads its claims back by token instead of
 * trusting row counts (Babelfish reports them wrongly).
 */
import type { Dialect } from './database-url.ts';

/** Due: waiting, or claimed under a lease that has expired (its worker died), and its time has come. */
const DUE =
  "status in ('queued', 'running') and next_attempt_at <= ? and (lease_expires_at is null or lease_expires_at <= ?)";

function candidates(dialect: Dialect): string {
  switch (dialect) {
    case 'postgresql':
      return `select id from rerun_job where ${DUE} order by next_attempt_at, id limit ? for update skip locked`;
    case 'mssql':
      return `select top (?) id from rerun_job with (updlock, readpast, rowlock) where ${DUE} order by next_attempt_at, id`;
    case 'sqlite':
      return `select id from rerun_job where ${DUE} order by next_attempt_at, id limit ?`;
  }
}

export interface Claim {
  worker: string;
  token: string;
  now: Date;
  /** A first lease, extended per job to its timeout in the same transaction. */
  leaseExpiresAt: Date;
  limit: number;
}

/** The claim statement and its parameters. */
export function claimJobsSql(dialect: Dialect, claim: Claim): { sql: string; params: unknown[] } {
  const set =
    "update rerun_job set status = 'running', attempts = attempts + 1, lease_owner = ?, lease_token = ?, " +
    'lease_expires_at = ?, updated_at = ?';
  const setParams = [claim.worker, claim.token, claim.leaseExpiresAt, claim.now];
  const due = [claim.now, claim.now];
  if (dialect === 'postgresql') {
    // The candidates are chosen once, in a CTE: as an IN subquery of the UPDATE, PostgreSQL may run the
    // locking subquery more than once, and the claim then takes more jobs than `limit` (measured: all 7
    // due jobs for a limit of 3).
    return {
      sql: `with candidates as materialized (${candidates(dialect)}) ${set} where id in (select id from candidates) and ${DUE}`,
      params: [...due, claim.limit, ...setParams, ...due],
    };
  }
  return {
    sql: `${set} where id in (${candidates(dialect)}) and ${DUE}`,
    params: [...setParams, ...(dialect === 'mssql' ? [claim.limit, ...due] : [...due, claim.limit]), ...due],
  };
}

/** Whether any job is due, without locking anything: an idle worker's poll. */
export function anyDueJobSql(dialect: Dialect, now: Date): { sql: string; params: unknown[] } {
  const sql =
    dialect === 'mssql'
      ? `select top (1) id from rerun_job where ${DUE}`
      : `select id from rerun_job where ${DUE} limit 1`;
  return { sql, params: [now, now] };
}
