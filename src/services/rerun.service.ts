/**
 * Reruns of failed step runs (REQUIREMENTS §5; the contract's rerunStepRun, listStepRunReruns and
 * listRerunJobs): the checks, the new linked step run and its durable job, created in one transaction; the
 * chain of attempts; the queue as an admin sees it. The job is executed later by a worker
 * (src/reruns/rerun-worker.ts).
 */
import { raw, type EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import {
  ProcessStepRun,
  RerunJob,
  RerunJobAttempt,
  RERUN_JOB_STATUSES,
  type RerunJobStatus,
} from '../entities/index.ts';
import { ConflictError, NotFoundError } from '../errors/domain-errors.ts';
import type { RerunQueue } from '../reruns/rerun-queue.ts';
import { resolveRerunTarget, type RerunSettings, type RerunTarget } from '../reruns/rerun-target.ts';
import { recomputeRunStatus, withLockedStepRun } from './run.service.ts';

export interface RerunStarted {
  stepRun: ProcessStepRun;
  original: ProcessStepRun;
  job: RerunJob;
  target: RerunTarget;
}

export interface RerunJobWithAttempts {
  job: RerunJob;
  attempts: RerunJobAttempt[];
}

export interface RerunQueueDepth {
  counts: Record<RerunJobStatus, number>;
  /** The `next_attempt_at` of the longest-waiting queued job; null when none waits. */
  oldestQueuedAt: Date | null;
}

/** Jobs per query of their attempts: far below SQL Server's 2,100 parameters. */
const JOB_IDS_PER_QUERY = 1000;

export class RerunService {
  readonly #settings: RerunSettings;
  readonly #queue: RerunQueue;
  readonly #onQueued: () => void;

  constructor(options: { settings: RerunSettings; queue: RerunQueue; onQueued: () => void }) {
    this.#settings = options.settings;
    this.#queue = options.queue;
    this.#onQueued = options.onQueued;
  }

  /**
   * Reruns the live step run `id`: checks that it may be rerun (409 otherwise), then in one transaction
   * that locks its run creates the new pending step run (`rerun_of` = it, `rerun_count` + 1, the same
   * `rerun_config` and `max_reruns`, `meta` as given), queues its job and recomputes the run's status.
   */
  async rerun(em: EntityManager, id: number, meta: Record<string, unknown> | null): Promise<RerunStarted> {
    const started = await withLockedStepRun(em, id, async (tx, run, original) => {
      if (!original.can_rerun) {
        throw new ConflictError(`Step run ${id} cannot be rerun: its step is not rerunnable`);
      }
      if (original.status !== 'failed') {
        throw new ConflictError(`Step run ${id} is ${original.status}; only a failed step run can be rerun`);
      }
      const newer = await tx.findOne(ProcessStepRun, { rerun_of: id }, { orderBy: { id: 'desc' } });
      if (newer !== null) {
        throw new ConflictError(`Step run ${id} was already rerun as step run ${newer.id}; rerun that one`);
      }
      if (original.rerun_count >= original.max_reruns) {
        throw new ConflictError(`Step run ${id} has reached its maximum of ${original.max_reruns} reruns`);
      }
      const resolved = resolveRerunTarget(original.rerun_config, this.#settings);
      if (!resolved.ok) throw new ConflictError(`Step run ${id} cannot be rerun: ${resolved.reason}`);
      const now = new Date();
      const stepRun = tx.create(ProcessStepRun, {
        run,
        step: original.step,
        step_index: original.step_index,
        status: 'pending',
        meta,
        can_rerun: original.can_rerun,
        rerun_config: structuredClone(original.rerun_config),
        max_reruns: original.max_reruns,
        rerun_count: original.rerun_count + 1,
        rerun_of: original,
        created_at: now,
        updated_at: now,
      });
      await tx.flush();
      const job = this.#queue.enqueue(tx, {
        step_run_id: stepRun.id,
        original_step_run_id: original.id,
        run_id: run.id,
        adapter: resolved.target.adapter,
        max_attempts: 1 + resolved.target.retryDelays.length,
        timeout_seconds: resolved.target.timeoutSeconds,
      });
      await recomputeRunStatus(tx, run);
      return { stepRun, original, job, target: resolved.target };
    });
    this.#onQueued();
    return started;
  }

  /**
   * The chain of attempts the live step run `id` belongs to, oldest first: from the first execution (the
   * attempt that reruns nothing) through every rerun of it. NotFoundError for an unknown or deleted one.
   */
  async history(em: EntityManager, id: number): Promise<ProcessStepRun[]> {
    const stepRun = await em.findOne(ProcessStepRun, { id });
    if (stepRun === null) throw new NotFoundError(`Step run ${id} not found`);
    // The attempts of this step in this run: a handful (each rerun is bounded by max_reruns).
    const attempts = await em.find(
      ProcessStepRun,
      { run: stepRun.run.id, step: stepRun.step.id },
      { orderBy: { id: 'asc' } },
    );
    const byId = new Map(attempts.map((attempt) => [attempt.id, attempt]));
    let first = stepRun;
    for (let parent = first.rerun_of?.id; parent !== undefined; parent = first.rerun_of?.id) {
      const found = byId.get(parent);
      if (found === undefined) break;
      first = found;
    }
    const chain = [first];
    for (;;) {
      const last = chain.at(-1)!;
      const next = attempts.find((attempt) => attempt.rerun_of?.id === last.id);
      if (next === undefined) return chain;
      chain.push(next);
    }
  }

  /** A page of rerun jobs, newest first, with their attempts (by job, in order). */
  async jobs(
    em: EntityManager,
    query: { status?: RerunJobStatus; step_run_id?: number; offset: number; limit: number },
  ): Promise<{ items: RerunJobWithAttempts[]; total: number }> {
    const where = {
      ...(query.status === undefined ? {} : { status: query.status }),
      ...(query.step_run_id === undefined
        ? {}
        : { $or: [{ step_run_id: query.step_run_id }, { original_step_run_id: query.step_run_id }] }),
    };
    const [jobs, total] = await em.findAndCount(RerunJob, where, {
      orderBy: { id: 'desc' },
      offset: query.offset,
      limit: query.limit,
    });
    const attempts: RerunJobAttempt[] = [];
    const ids = jobs.map((job) => job.id);
    for (let start = 0; start < ids.length; start += JOB_IDS_PER_QUERY) {
      attempts.push(
        ...(await em.find(
          RerunJobAttempt,
          { job_id: { $in: ids.slice(start, start + JOB_IDS_PER_QUERY) } },
          { orderBy: { job_id: 'asc', attempt: 'asc' } },
        )),
      );
    }
    const byJob = Map.groupBy(attempts, (attempt) => attempt.job_id);
    return { items: jobs.map((job) => ({ job, attempts: byJob.get(job.id) ?? [] })), total };
  }

  /** How many jobs are in each state, and how long the oldest queued one has waited. */
  async depth(em: EntityManager): Promise<RerunQueueDepth> {
    const rows = await (em as SqlEntityManager)
      .createQueryBuilder(RerunJob, 'j')
      .select([raw('j.status').as('status'), raw('count(*)').as('count')])
      .groupBy('j.status')
      .execute<{ status: string; count: number | string }[]>('all', false);
    const counts = Object.fromEntries(RERUN_JOB_STATUSES.map((status) => [status, 0])) as Record<
      RerunJobStatus,
      number
    >;
    for (const row of rows) {
      if ((RERUN_JOB_STATUSES as readonly string[]).includes(row.status)) {
        counts[row.status as RerunJobStatus] = Number(row.count);
      }
    }
    const oldest = await em.findOne(RerunJob, { status: 'queued' }, { orderBy: { next_attempt_at: 'asc' } });
    const oldestQueuedAt = oldest?.next_attempt_at ?? null;
    return { counts, oldestQueuedAt };
  }
}
