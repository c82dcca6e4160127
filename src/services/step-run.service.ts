import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { ProcessRun, ProcessStep, ProcessStepRun, type StepRunStatus } from '../entities/index.ts';
import { ConflictError, NotFoundError } from '../errors/domain-errors.ts';
import { emDialect, type Dialect } from '../db/database-url.ts';
import {
  readRunOfStepRunWithSteps,
  REPORTED_RUN_WRITTEN,
  writeReport,
  type ReportedRun,
} from '../db/postgres-run-writes.ts';
import type { SqlFragment } from '../db/run-queries.ts';
import type { RunRecord, StepRunRecord } from '../db/records.ts';
import { KeptRuns } from './kept-runs.ts';
import {
  currentStepRunsOf,
  lockRun,
  lockRunOfStepRun,
  newStepRun,
  moveRunStatus,
  runStatusMove,
  type RunStatusMove,
  recomputeRunStatus,
} from './run.service.ts';

export interface NewStepRun {
  run_id: number;
  step_id: number;
  step_index?: number | null;
}

/** A robot's report on a step run. Members left undefined were not sent. */
export interface StepRunReport {
  status: StepRunStatus;
  started_at?: Date | null;
  finished_at?: Date | null;
  failure?: Record<string, unknown> | null;
  rerun_config?: Record<string, unknown> | null;
  last_modified_by?: string | null;
  meta?: Record<string, unknown> | null;
}

/**
 * What a report writes to `stepRun` (see `StepRunService.report`): the members sent and what the rules
 * derive, `updated_at` included. Members not written keep their stored text (JSON as first written).
 */
function reportedChanges(stepRun: StepRunRecord, report: StepRunReport, now: Date): Partial<StepRunRecord> {
  const changes: { -readonly [K in keyof StepRunRecord]?: StepRunRecord[K] } = { status: report.status };
  if (report.started_at !== undefined) changes.started_at = report.started_at;
  if (report.finished_at !== undefined) changes.finished_at = report.finished_at;
  if (report.failure !== undefined) changes.failure = report.failure;
  if (report.rerun_config != null && Object.keys(report.rerun_config).length > 0) {
    changes.rerun_config = { ...stepRun.rerun_config, ...report.rerun_config };
  }
  if (report.last_modified_by !== undefined) changes.last_modified_by = report.last_modified_by;
  if (report.meta !== undefined) changes.meta = report.meta;
  const started = changes.started_at === undefined ? stepRun.started_at : changes.started_at;
  const finished = changes.finished_at === undefined ? stepRun.finished_at : changes.finished_at;
  if (report.status === 'running' && started == null) changes.started_at = now;
  if ((report.status === 'success' || report.status === 'failed') && finished == null)
    changes.finished_at = now;
  if (report.status === 'pending' || report.status === 'running') changes.failure = null;
  changes.updated_at = now;
  return changes;
}

/** What a report writes: see `appliedReport`. */
interface AppliedReport {
  updated: StepRunRecord;
  stepRun: { id: number; changes: Partial<StepRunRecord> };
  run: ReportedRun & { changes: Partial<RunRecord>; counts: SqlFragment | undefined };
  move: RunStatusMove | undefined;
}

/**
 * `report` applied to step run `id` of `read` (its run, and the run's live step runs as they are now): the
 * step run as it becomes (`updated`) and its changes, and the run's changes — `updated_at` at least (on
 * PostgreSQL the run's row is written by every report, see postgres-run-writes.ts), its status and times and
 * their count move when the status moves. NotFoundError when there is no such live step run.
 */
function appliedReport(
  read: { run: ReportedRun; stepRuns: StepRunRecord[] } | undefined,
  id: number,
  report: StepRunReport,
  dialect: Dialect,
): AppliedReport {
  const index = read?.stepRuns.findIndex((stepRun) => stepRun.id === id) ?? -1;
  if (read === undefined || index < 0) throw new NotFoundError(`Step run ${id} not found`);
  const now = new Date();
  const changes = reportedChanges(read.stepRuns[index]!, report, now);
  const updated: StepRunRecord = { ...read.stepRuns[index]!, ...changes };
  const onlyIf = dialect === 'postgresql' ? REPORTED_RUN_WRITTEN : undefined;
  const move = runStatusMove(dialect, read.run, read.stepRuns.with(index, updated), now, onlyIf);
  return {
    updated,
    stepRun: { id, changes },
    run: { ...read.run, changes: move?.changes ?? { updated_at: now }, counts: move?.counts },
    move,
  };
}

const STEP_RUN_NOT_FOUND_FOR_STEP = 'Step run not found for given run and step';

/** Step runs: create, report on, read and list (any role). */
export class StepRunService {
  /** PostgreSQL: runs as this server last wrote them (`report`); shared with `RunService`, which keeps new runs. */
  readonly #kept: KeptRuns;

  constructor(options: { keptRuns?: KeptRuns } = {}) {
    this.#kept = options.keptRuns ?? new KeptRuns();
  }

  /**
   * Creates a pending step run of the live step `step_id` in the live run `run_id` (NotFoundError for
   * either; ConflictError when the step belongs to another process), taking step_index (unless given),
   * can_rerun, rerun_config and max_reruns from the step, and recomputes the run's status.
   */
  async create(em: EntityManager, input: NewStepRun): Promise<ProcessStepRun> {
    return em.transactional(async (tx) => {
      const run = await lockRun(tx, input.run_id);
      if (run === undefined) throw new NotFoundError(`Run ${input.run_id} not found`);
      const step = await tx.findOne(ProcessStep, { id: input.step_id });
      if (step === null) throw new NotFoundError(`Step ${input.step_id} not found`);
      if (step.process.id !== run.process.id) {
        throw new ConflictError(
          `Step ${step.id} belongs to process ${step.process.id}, run ${run.id} to process ${run.process.id}`,
        );
      }
      const stepRun = newStepRun(tx, run, step, new Date(), input.step_index ?? step.index);
      await tx.flush();
      await recomputeRunStatus(tx, run);
      return stepRun;
    });
  }

  /** Keeps the run of `read` as `applied` wrote it, at `version` (`#kept`); answers the step run as written. */
  #keep(
    read: { run: ReportedRun; stepRuns: StepRunRecord[] },
    applied: AppliedReport,
    version: string,
  ): StepRunRecord {
    const { updated } = applied;
    const { status, started_at, finished_at } = { ...read.run, ...applied.run.changes };
    this.#kept.keep(
      { ...read.run, status, started_at, finished_at },
      read.stepRuns.map((stepRun) => (stepRun.id === updated.id ? updated : stepRun)),
      version,
    );
    return updated;
  }

  /** The live step run `id` (a current one or an earlier attempt); NotFoundError when there is none. */
  async get(em: EntityManager, id: number): Promise<ProcessStepRun> {
    const stepRun = await em.findOne(ProcessStepRun, { id });
    if (stepRun === null) throw new NotFoundError(`Step run ${id} not found`);
    return stepRun;
  }

  /**
   * Applies a robot's report to the live step run `id` with the original's rules, then recomputes the
   * run's status, all in one transaction that first locks the run (see `lockRun`; on PostgreSQL first in two
   * statements that write only while the run is as read, postgres-run-writes.ts):
   * - members are applied as sent, except `rerun_config`, which is merged into the stored one (members
   *   sent replace those stored, the others stay): robots complete it (e.g. `workitem_id`), and the robots'
   *   library sends `{}` on every report, which must not wipe the rerun target copied from the step;
   * - `running` without a started_at (none sent and none stored) sets it to now; `success` or `failed`
   *   without a finished_at sets that to now; sent timestamps are kept as sent;
   * - `pending` and `running` clear `failure`.
   * The robots' most frequent call, so it reads records and writes with single UPDATEs (no entities: their
   * building and change tracking cost several times the statements, `make bench`).
   *
   * On PostgreSQL a report usually takes one statement: the run as this server last wrote it (a new run, a
   * report) is kept (kept-runs.ts), and the next report on one of its step runs — a robot reports its run's
   * steps one after another — derives from that and writes on condition that the run is still the version
   * written; when it is not, nothing is written and the run is read again.
   */
  async report(em: EntityManager, id: number, report: StepRunReport): Promise<StepRunRecord> {
    const dialect = emDialect(em);
    if (dialect === 'postgresql') {
      // One or two statements, no transaction of their own (postgres-run-writes.ts): the run and its step
      // runs as kept or read, then everything written while the run is that version; not written: it
      // changed meanwhile.
      const sql = em as SqlEntityManager;
      const kept = this.#kept.of(id);
      if (kept !== undefined) {
        const applied = appliedReport(kept, id, report, dialect);
        const version = await writeReport(sql, applied.stepRun, { ...applied.run, version: kept.version });
        if (version !== undefined) return this.#keep(kept, applied, version);
        this.#kept.forget(kept.run.id);
      }
      const read = await readRunOfStepRunWithSteps(sql, id);
      const applied = appliedReport(read, id, report, dialect);
      const version = await writeReport(sql, applied.stepRun, { ...applied.run, version: read!.version });
      if (version !== undefined) return this.#keep(read!, applied, version);
    }
    return em.transactional(async (tx) => {
      const applied = appliedReport(await lockRunOfStepRun(tx, id), id, report, dialect);
      if (dialect === 'postgresql') {
        this.#kept.forget(applied.run.id);
        await writeReport(tx as SqlEntityManager, applied.stepRun, applied.run);
      } else {
        await tx.nativeUpdate(ProcessStepRun, { id }, applied.stepRun.changes);
        if (applied.move !== undefined) await moveRunStatus(tx, applied.run, applied.move);
      }
      return applied.updated;
    });
  }

  /**
   * The current step runs with this `run_id`, ordered by step_index (only those that can be rerun now —
   * can_rerun and failed — when asked). Selected by run id alone, as the original: an unknown or
   * soft-deleted run has none.
   */
  async listByRun(
    em: EntityManager,
    runId: number,
    options: { rerunnableOnly?: boolean } = {},
  ): Promise<ProcessStepRun[]> {
    const current = (await currentStepRunsOf(em, [runId])).get(runId) ?? [];
    return options.rerunnableOnly === true
      ? current.filter((stepRun) => stepRun.can_rerun && stepRun.status === 'failed')
      : current;
  }

  /** The current step run of step `stepId` in the live run `runId` (the newest when several). */
  async getByRunAndStep(em: EntityManager, runId: number, stepId: number): Promise<ProcessStepRun> {
    const run = await em.findOne(ProcessRun, { id: runId });
    if (run === null) throw new NotFoundError(STEP_RUN_NOT_FOUND_FOR_STEP);
    const current = (await currentStepRunsOf(em, [runId])).get(runId) ?? [];
    const ofStep = current.filter((stepRun) => stepRun.step.id === stepId);
    const newest = ofStep.reduce<ProcessStepRun | undefined>(
      (best, stepRun) => (best === undefined || stepRun.id > best.id ? stepRun : best),
      undefined,
    );
    if (newest === undefined) throw new NotFoundError(STEP_RUN_NOT_FOUND_FOR_STEP);
    return newest;
  }
}
