/**
 * The durable rerun queue: a table-based queue with leases, as Hangfire keeps one on SQL Server (no queue
 * library serves SQLite, PostgreSQL and SQL Server alike).
 *
 * - **Enqueue** inserts a `rerun_job` row in the caller's transaction, the one that creates the new step
 *   run: both exist, or neither.
 * - **Claim** (rerun-queue-queries.ts) takes due jobs for one worker with a token and a lease lasting the
 *   call's timeout plus `RERUN_LEASE_MARGIN_SECONDS`, counts the attempt and writes its `rerun_job_attempt`
 *   row (unique per job and attempt number), in one transaction. A job whose worker died is due again once
 *   its lease has expired; its unfinished attempt is then marked `lease_expired`.
 * - **Settle** records an attempt's outcome and the job's next state, only while the worker still holds
 *   the lease (same token): a worker that lost its lease records what it saw on its attempt and nothing
 *   else.
 *
 * Times come from each instance's clock: instances sharing a database keep their clocks in step (NTP).
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { Dialect } from '../db/database-url.ts';
import { anyDueJobSql, claimJobsSql } from '../db/rerun-queue-queries.ts';
import { lockRow } from '../db/row-lock.ts';
import {
  RerunJob,
  RerunJobAttempt,
  type RerunAdapter,
  type RerunAttemptOutcome,
  type RerunJobStatus,
} from '../entities/index.ts';

/** A job this worker claimed: the job as claimed, the claim's token and the attempt it is to execute. */
export interface ClaimedJob {
  job: RerunJob;
  token: string;
  /** The attempt's number among all attempts of the job (1, 2, …): unique per job. */
  attempt: number;
  /**
   * Earlier attempts whose worker stopped before they ended (`lease_expired`). They do not count against
   * `max_attempts` — the target may never have been called — so the attempt's place in the job's retry
   * plan is `attempt - expiredAttempts`.
   */
  expiredAttempts: number;
}

/** What became of an attempt, and what becomes of its job. */
export interface Settlement {
  outcome: RerunAttemptOutcome;
  httpStatus?: number;
  message: string | null;
  durationMs: number | null;
  /** `queued` (retry at `retryAt`), `succeeded`, `failed` or `cancelled`. */
  jobStatus: Exclude<RerunJobStatus, 'running'>;
  retryAt?: Date;
}

export interface NewRerunJob {
  step_run_id: number;
  original_step_run_id: number;
  run_id: number;
  adapter: RerunAdapter;
  max_attempts: number;
  timeout_seconds: number;
}

/** The longest message kept on an attempt or a job (the columns' length). */
const MESSAGE_LENGTH = 2000;

export class RerunQueue {
  readonly #em: () => EntityManager;
  readonly #dialect: Dialect;
  readonly #leaseMarginMs: number;

  constructor(options: { em: () => EntityManager; dialect: Dialect; leaseMarginSeconds: number }) {
    this.#em = options.em;
    this.#dialect = options.dialect;
    this.#leaseMarginMs = options.leaseMarginSeconds * 1000;
  }

  /** Adds a job, due now, in the transaction `tx` (persisted on its next flush). */
  enqueue(tx: EntityManager, job: NewRerunJob): RerunJob {
    const now = new Date();
    return tx.create(RerunJob, {
      ...job,
      status: 'queued',
      attempts: 0,
      next_attempt_at: now,
      created_at: now,
      updated_at: now,
    });
  }

  /** Claims up to `limit` due jobs for `worker`, oldest due first; none when nothing is due. */
  async claim(worker: string, limit: number): Promise<ClaimedJob[]> {
    const em = this.#em() as SqlEntityManager;
    const probe = anyDueJobSql(this.#dialect, new Date());
    if ((await em.execute<unknown[]>(probe.sql, probe.params)).length === 0) return [];
    const token = randomUUID();
    return em.transactional(async (tx) => {
      const now = new Date();
      const { sql, params } = claimJobsSql(this.#dialect, {
        worker,
        token,
        now,
        leaseExpiresAt: new Date(now.getTime() + this.#leaseMarginMs),
        limit,
      });
      await tx.execute(sql, params, 'run');
      const jobs = await tx.find(RerunJob, { lease_token: token }, { orderBy: { id: 'asc' }, refresh: true });
      const claimed: ClaimedJob[] = [];
      for (const job of jobs) {
        await tx.nativeUpdate(
          RerunJobAttempt,
          { job_id: job.id, finished_at: null },
          {
            finished_at: now,
            outcome: 'lease_expired',
            message: 'The worker stopped before the attempt ended',
          },
        );
        const expiredAttempts = await tx.count(RerunJobAttempt, { job_id: job.id, outcome: 'lease_expired' });
        job.lease_expires_at = new Date(
          now.getTime() + Number(job.timeout_seconds) * 1000 + this.#leaseMarginMs,
        );
        tx.create(RerunJobAttempt, { job_id: job.id, attempt: job.attempts, worker, started_at: now });
        claimed.push({ job, token, attempt: job.attempts, expiredAttempts });
      }
      await tx.flush();
      return claimed;
    });
  }

  /**
   * Makes the lease of `claimed` outlast a call of `timeoutSeconds` from now (in `tx`): the step run's
   * `rerun_config` may have been changed since the job was queued, and a lease shorter than the call would
   * let another worker make the same call again.
   */
  async fitLease(tx: EntityManager, claimed: ClaimedJob, timeoutSeconds: number): Promise<void> {
    if (Number(claimed.job.timeout_seconds) === timeoutSeconds) return;
    await tx.nativeUpdate(
      RerunJob,
      { id: claimed.job.id, lease_token: claimed.token },
      {
        timeout_seconds: timeoutSeconds,
        lease_expires_at: new Date(Date.now() + timeoutSeconds * 1000 + this.#leaseMarginMs),
      },
    );
  }

  /**
   * Records how the attempt of `claimed` ended and the job's next state, in `tx` (the caller's
   * transaction, which also updates the step run). False, with only the attempt recorded, when the worker
   * no longer holds the job's lease: another worker has it now.
   */
  async settle(tx: EntityManager, claimed: ClaimedJob, settlement: Settlement): Promise<boolean> {
    const now = new Date();
    const message = settlement.message?.slice(0, MESSAGE_LENGTH) ?? null;
    // Locks the job's row before reading who holds it.
    await lockRow(tx, 'rerun_job', claimed.job.id);
    const job = await tx.findOne(RerunJob, { id: claimed.job.id }, { refresh: true });
    const held = job !== null && job.lease_token === claimed.token;
    await tx.nativeUpdate(
      RerunJobAttempt,
      { job_id: claimed.job.id, attempt: claimed.attempt },
      {
        finished_at: now,
        outcome: settlement.outcome,
        http_status: settlement.httpStatus ?? null,
        message: held
          ? message
          : `${message ?? settlement.outcome} (the lease had expired: this outcome did not count)`.slice(
              0,
              MESSAGE_LENGTH,
            ),
        duration_ms: settlement.durationMs,
      },
    );
    if (!held) return false;
    job.status = settlement.jobStatus;
    job.updated_at = now;
    job.lease_owner = null;
    job.lease_token = null;
    job.lease_expires_at = null;
    if (settlement.outcome !== 'success') job.last_error = message;
    if (settlement.jobStatus === 'queued') {
      job.next_attempt_at = settlement.retryAt ?? now;
    } else {
      job.finished_at = now;
    }
    await tx.flush();
    return true;
  }
}
