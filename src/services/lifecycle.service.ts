/**
 * The data lifecycle (REQUIREMENTS §4): soft delete and restore of processes and runs, retention, and GDPR
 * neutralisation of runs, one at a time or in batches of due runs. Admin only (the operations' role).
 *
 * Everything else reads through the entities' default `softDelete` filter; the methods here are the only
 * ones that switch it off, explicitly, to find what is deleted.
 */
import { randomUUID } from 'node:crypto';
import { DriverException, type EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { Dialect } from '../db/database-url.ts';
import {
  deleteProcessStatements,
  deleteRunStatements,
  hideUnderDeletedProcess,
  rescheduleRuns,
  restoreStatements,
  type Deletion,
} from '../db/lifecycle-queries.ts';
import { lockRow } from '../db/row-lock.ts';
import {
  indexRunFields,
  lockProcessMeta,
  reindexProcessFields,
  unindexProcess,
  unindexRun,
} from '../db/run-fields.ts';
import { adjustRunCounts, countedRun, recountRuns } from '../db/run-counts.ts';
import { includeDeleted } from '../db/soft-delete.ts';
import { Process, ProcessRun, ProcessStepRun } from '../entities/index.ts';
import { ConflictError, NotFoundError } from '../errors/domain-errors.ts';
import { indexedMetaFields, reindexRunIfFieldsChanged } from '../db/meta-fields.ts';
import { keepKeysOf, neutralizedEntityId, neutralizeObject } from './neutralization.ts';
import { liveProcess, type ProcessService, type ProcessWithSteps } from './process.service.ts';
import type { RunService, RunWithSteps } from './run.service.ts';

/** The answer of `POST /runs/{id}/neutralize` (the original's shape). */
export interface RunNeutralization {
  run_id: number;
  was_already_neutralized: boolean;
  success: boolean;
  message: string;
}

/** Runs due for neutralisation: how many, and the ids of the longest due. */
export interface DueRuns {
  total: number;
  sampleRunIds: number[];
}

/** The outcome of one batch of due runs. In a dry run nothing is written and `neutralized` lists would-be runs. */
export interface CleanupBatch {
  dryRun: boolean;
  found: number;
  neutralized: number[];
  failed: { run_id: number; error: string }[];
}

/** Statements built by lifecycle-queries.ts run in this order inside the caller's transaction. */
async function executeAll(statements: { execute(mode: 'run'): Promise<unknown> }[]): Promise<void> {
  for (const statement of statements) await statement.execute('run');
}

/**
 * Brings back what the delete of row `id` hid: every row carrying its token, or, for a row deleted without
 * one (not by this service), only the row itself.
 */
async function restoreDeletion(
  tx: EntityManager,
  table: 'process' | 'process_run',
  id: number,
  token: string | null | undefined,
): Promise<void> {
  if (token === null || token === undefined) {
    await (tx as SqlEntityManager).execute(`update ${table} set deleted_at = null where id = ?`, [id], 'run');
  } else {
    await executeAll(restoreStatements(tx as SqlEntityManager, token));
  }
}

function newDeletion(): Deletion {
  return { deleted_at: new Date(), deletion_token: randomUUID() };
}

/** Where due runs are found: reached `scheduled_deletion_at`, not neutralised; the default filter hides deleted ones. */
function dueWhere(now: Date) {
  return { scheduled_deletion_at: { $lte: now }, is_neutralized: false } as const;
}

export class LifecycleService {
  readonly #dialect: Dialect;
  readonly #processes: ProcessService;
  readonly #runs: RunService;
  readonly #globalKeepKeys: readonly string[];

  constructor(options: {
    dialect: Dialect;
    processes: ProcessService;
    runs: RunService;
    /** `NEUTRALIZE_KEEP_KEYS`: the keep-list of processes without their own. */
    keepKeys: readonly string[];
  }) {
    this.#dialect = options.dialect;
    this.#processes = options.processes;
    this.#runs = options.runs;
    this.#globalKeepKeys = options.keepKeys;
  }

  /**
   * Soft-deletes process `id` with its live steps, runs and step runs, all under one deletion token, in
   * one transaction. Deleting a deleted process changes nothing. NotFoundError when it never existed.
   */
  async deleteProcess(em: EntityManager, id: number): Promise<void> {
    await em.transactional(async (tx) => {
      // Locked first, so of two concurrent deletes the second sees the first's work and does nothing.
      await lockRow(tx, 'process', id);
      const process = await tx.findOne(Process, { id }, { ...includeDeleted, refresh: true });
      if (process === null) throw new NotFoundError(`Process ${id} not found`);
      if (process.deleted_at !== null && process.deleted_at !== undefined) return;
      await executeAll(deleteProcessStatements(tx as SqlEntityManager, id, newDeletion()));
      await recountRuns(tx, id);
      await unindexProcess(tx, id);
    });
    // Rows a creation committed while this transaction ran (see hideUnderDeletedProcess).
    await hideUnderDeletedProcess(em, id);
  }

  /**
   * Restores process `id` with exactly the steps, runs and step runs its delete hid, and answers it with
   * its steps. A process that is not deleted is answered unchanged. NotFoundError when it never existed.
   */
  async restoreProcess(em: EntityManager, id: number): Promise<ProcessWithSteps> {
    await em.transactional(async (tx) => {
      const process = await tx.findOne(Process, { id }, { ...includeDeleted });
      if (process === null) throw new NotFoundError(`Process ${id} not found`);
      if (process.deleted_at === null || process.deleted_at === undefined) return;
      await restoreDeletion(tx, 'process', id, process.deletion_token);
      await recountRuns(tx, id);
      await reindexProcessFields(tx, this.#dialect, id, indexedMetaFields(process.meta));
    });
    em.clear();
    return this.#processes.get(em, id);
  }

  /**
   * Soft-deletes run `id` with its live step runs under one deletion token. Deleting a deleted run changes
   * nothing. NotFoundError when it never existed.
   */
  async deleteRun(em: EntityManager, id: number): Promise<void> {
    await em.transactional(async (tx) => {
      await lockRow(tx, 'process_run', id);
      const run = await tx.findOne(ProcessRun, { id }, { ...includeDeleted, refresh: true });
      if (run === null) throw new NotFoundError(`Run ${id} not found`);
      if (run.deleted_at !== null && run.deleted_at !== undefined) return;
      await executeAll(deleteRunStatements(tx as SqlEntityManager, id, newDeletion()));
      await adjustRunCounts(tx, run.process.id, countedRun(run, -1));
      await unindexRun(tx, id);
    });
  }

  /**
   * Restores run `id` with exactly the step runs its delete hid, and answers it with its step runs. A run
   * that is not deleted is answered unchanged. NotFoundError when it never existed; ConflictError while its
   * process is deleted (a run of a deleted process stays hidden: restore the process first).
   */
  async restoreRun(em: EntityManager, id: number): Promise<RunWithSteps> {
    const found = await em.findOne(ProcessRun, { id }, { ...includeDeleted });
    if (found === null) throw new NotFoundError(`Run ${id} not found`);
    const processId = found.process.id;
    let fields: string[] = [];
    await em.transactional(async (tx) => {
      // First: the fields indexed for the process's runs (run-fields.ts); then the run, so of two
      // concurrent restores the second sees the run restored and counts it once.
      fields = indexedMetaFields((await lockProcessMeta(tx, this.#dialect, processId)) ?? {});
      await lockRow(tx, 'process_run', id);
      const run = await tx.findOne(ProcessRun, { id }, { ...includeDeleted, refresh: true });
      if (run === null) throw new NotFoundError(`Run ${id} not found`);
      if (run.deleted_at === null || run.deleted_at === undefined) return;
      const process = await tx.findOne(Process, { id: run.process.id }, { ...includeDeleted });
      if (process?.deleted_at != null) {
        throw new ConflictError(
          `Run ${id} belongs to process ${run.process.id}, which is deleted; restore the process first`,
        );
      }
      await restoreDeletion(tx, 'process_run', id, run.deletion_token);
      await adjustRunCounts(tx, run.process.id, countedRun(run, 1));
      await indexRunFields(tx, this.#dialect, id, fields);
    });
    await reindexRunIfFieldsChanged(em, this.#dialect, processId, id, fields);
    em.clear();
    return this.#runs.get(em, id);
  }

  /**
   * Sets the retention of the live process `id` (null: none) and reschedules all its runs in one
   * statement. NotFoundError when the process is deleted or never existed.
   */
  async setRetention(em: EntityManager, id: number, months: number | null): Promise<ProcessWithSteps> {
    await em.transactional(async (tx) => {
      const process = await liveProcess(tx, id);
      process.retention_months = months;
      await tx.flush();
      await rescheduleRuns(tx, this.#dialect, id, months);
    });
    return this.#processes.get(em, id);
  }

  /**
   * Neutralises run `id` (deleted or not) and all its step runs (every attempt, deleted or not), in one
   * transaction. Idempotent: a neutralised run is left as it is. NotFoundError when it never existed.
   */
  async neutralizeRun(em: EntityManager, id: number): Promise<RunNeutralization> {
    const exists = await em.count(ProcessRun, { id }, { ...includeDeleted });
    if (exists === 0) throw new NotFoundError(`Run ${id} not found`);
    const neutralized = await this.#neutralize(em, id);
    return neutralized
      ? { run_id: id, was_already_neutralized: false, success: true, message: 'Run successfully neutralized' }
      : { run_id: id, was_already_neutralized: true, success: true, message: 'Run was already neutralized' };
  }

  /** How many live runs are due at `now`, and the ids of up to `limit` of them, longest due first. */
  async dueRuns(em: EntityManager, limit: number, now = new Date()): Promise<DueRuns> {
    const [total, sampleRunIds] = await Promise.all([
      em.count(ProcessRun, dueWhere(now)),
      this.#dueRunIds(em, limit, now),
    ]);
    return { total, sampleRunIds };
  }

  /**
   * Neutralises up to `limit` live runs due at `now`, longest due first, each in its own transaction so
   * one failing run does not undo the others. A dry run writes nothing and lists the runs it would take.
   */
  async neutralizeDue(
    em: EntityManager,
    options: { limit: number; dryRun: boolean; now?: Date },
  ): Promise<CleanupBatch> {
    const ids = await this.#dueRunIds(em, options.limit, options.now ?? new Date());
    if (options.dryRun) return { dryRun: true, found: ids.length, neutralized: ids, failed: [] };
    const neutralized: number[] = [];
    const failed: CleanupBatch['failed'] = [];
    for (const id of ids) {
      try {
        if (await this.#neutralize(em.fork(), id)) neutralized.push(id);
        else failed.push({ run_id: id, error: `Run ${id} was neutralized by another request meanwhile` });
      } catch (error) {
        failed.push({ run_id: id, error: `Run ${id} could not be neutralized: ${describe(error)}` });
      }
    }
    return { dryRun: false, found: ids.length, neutralized, failed };
  }

  async #dueRunIds(em: EntityManager, limit: number, now: Date): Promise<number[]> {
    const runs = await em.find(ProcessRun, dueWhere(now), {
      fields: ['id'],
      orderBy: { scheduled_deletion_at: 'asc', id: 'asc' },
      limit,
      disableIdentityMap: true,
    });
    return runs.map((run) => run.id);
  }

  /**
   * Neutralises run `id` in one transaction; false when it was neutralised already (or does not exist).
   * The run's row is locked first, so of two concurrent neutralisations one does the work and the other
   * waits for it, then reads the run neutralised and does nothing.
   */
  async #neutralize(em: EntityManager, id: number): Promise<boolean> {
    const found = await em.findOne(ProcessRun, { id }, { ...includeDeleted });
    if (found === null) return false;
    const processId = found.process.id;
    let fields: string[] = [];
    const neutralized = await em.transactional(async (tx) => {
      const now = new Date();
      // First, before the run's lock: the fields indexed for the process's runs (run-fields.ts).
      fields = indexedMetaFields((await lockProcessMeta(tx, this.#dialect, processId)) ?? {});
      await lockRow(tx, 'process_run', id);
      const run = await tx.findOne(ProcessRun, { id }, { ...includeDeleted, refresh: true });
      if (run === null || run.is_neutralized) return false;
      run.is_neutralized = true;
      run.neutralized_at = now;
      const process = await tx.findOne(Process, { id: run.process.id }, { ...includeDeleted });
      const keep = keepKeysOf(process, this.#globalKeepKeys);
      run.entity_id = neutralizedEntityId(id);
      run.entity_name = null;
      run.meta = neutralizeObject(run.meta, keep) ?? {};
      const stepRuns = await tx.find(ProcessStepRun, { run: id }, { ...includeDeleted });
      for (const stepRun of stepRuns) {
        stepRun.meta = neutralizeObject(stepRun.meta, keep);
        stepRun.failure = neutralizeObject(stepRun.failure, keep);
        stepRun.updated_at = now;
      }
      await tx.flush();
      // The personal data leaves the index of the run's meta values too.
      await indexRunFields(tx, this.#dialect, id, fields);
      return true;
    });
    if (neutralized) await reindexRunIfFieldsChanged(em, this.#dialect, processId, id, fields);
    return neutralized;
  }
}

/**
 * A short reason for a failed neutralisation: never the error's message, which may hold SQL with the
 * run's personal data inlined (MikroORM inlines parameters), nor a stack.
 */
function describe(error: unknown): string {
  if (error instanceof DriverException) return `the database refused the change (${error.name})`;
  return 'unexpected error';
}
