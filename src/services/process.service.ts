import type { EntityManager } from '@mikro-orm/core';
import type { Dialect } from '../db/database-url.ts';
import { hideUnderDeletedProcess, rescheduleRuns } from '../db/lifecycle-queries.ts';
import { addRunCountRows } from '../db/run-counts.ts';
import { reindexProcessFields } from '../db/run-fields.ts';
import { Process, ProcessStep } from '../entities/index.ts';
import { ForbiddenError, NotFoundError } from '../errors/domain-errors.ts';
import { indexedMetaFields, reindexProcessAfterCommit } from '../db/meta-fields.ts';

export interface NewProcess {
  name: string;
  meta?: Record<string, unknown>;
  retention_months?: number | null;
  neutralize_keep_keys?: string[] | null;
}

export interface ProcessChanges {
  name?: string;
  meta?: Record<string, unknown>;
  retention_months?: number | null;
  neutralize_keep_keys?: string[] | null;
}

/** A process with its live steps, ordered by index. */
export interface ProcessWithSteps {
  process: Process;
  steps: ProcessStep[];
}

/**
 * `date` plus `months` calendar months in UTC; a day that the target month lacks becomes its last day
 * (31 January + 1 month = 28/29 February), as the original's clients expect of calendar months.
 */
export function addCalendarMonths(date: Date, months: number): Date {
  const result = new Date(date.getTime());
  const day = result.getUTCDate();
  result.setUTCDate(1);
  result.setUTCMonth(result.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(result.getUTCFullYear(), result.getUTCMonth() + 1, 0)).getUTCDate();
  result.setUTCDate(Math.min(day, lastDay));
  return result;
}

/**
 * Retention and neutralisation settings are admin-only (REQUIREMENTS §6): `retention_months` with a
 * value other than null on create, with any value on update, and `neutralize_keep_keys` sent at all.
 */
function refuseAdminOnlySettings(
  input: { retention_months?: number | null; neutralize_keep_keys?: string[] | null },
  sent: ReadonlySet<string>,
  nullRetentionAllowed: boolean,
): void {
  const retention =
    sent.has('retention_months') && !(nullRetentionAllowed && input.retention_months === null);
  if (retention || sent.has('neutralize_keep_keys')) {
    throw new ForbiddenError('retention_months and neutralize_keep_keys can only be set with an admin key');
  }
}

/** The live process `id`; NotFoundError when there is none (deleted or never created). */
export async function liveProcess(em: EntityManager, id: number): Promise<Process> {
  const process = await em.findOne(Process, { id });
  if (process === null) throw new NotFoundError(`Process ${id} not found`);
  return process;
}

/**
 * After a step or run of process `id` was committed: when a delete of the process committed meanwhile,
 * hides what was created with it and answers NotFoundError, as if the delete had come first (see
 * `hideUnderDeletedProcess`: no live row is ever left under a deleted process).
 */
export async function refuseIfProcessDeletedMeanwhile(em: EntityManager, id: number): Promise<void> {
  if (await hideUnderDeletedProcess(em, id)) throw new NotFoundError(`Process ${id} not found`);
}

/** Process definitions: create, list, read and update (any role; retention settings admin-only). */
export class ProcessService {
  readonly #dialect: Dialect;

  constructor(options: { dialect: Dialect }) {
    this.#dialect = options.dialect;
  }

  /**
   * Creates a process without steps. `sent` names the body members the client sent; a non-admin caller
   * sending admin-only settings gets ForbiddenError and nothing is written.
   */
  async create(
    em: EntityManager,
    input: NewProcess,
    caller: { isAdmin: boolean; sent: ReadonlySet<string> },
  ): Promise<ProcessWithSteps> {
    if (!caller.isAdmin) refuseAdminOnlySettings(input, caller.sent, true);
    const process = await em.transactional(async (tx) => {
      const created = tx.create(Process, {
        name: input.name,
        meta: input.meta ?? {},
        retention_months: input.retention_months ?? null,
        neutralize_keep_keys: input.neutralize_keep_keys ?? null,
      });
      await tx.flush();
      // Its run counts (src/db/run-counts.ts), zero, in the same transaction.
      await addRunCountRows(tx, created.id);
      return created;
    });
    return { process, steps: [] };
  }

  /** One page of live processes ordered by id, each with its live steps, and the total. */
  async list(
    em: EntityManager,
    offset: number,
    limit: number,
  ): Promise<{ items: ProcessWithSteps[]; total: number }> {
    const [processes, total] = await em.findAndCount(Process, {}, { orderBy: { id: 'asc' }, offset, limit });
    const steps = await this.#stepsOf(
      em,
      processes.map((process) => process.id),
    );
    return { items: processes.map((process) => ({ process, steps: steps.get(process.id) ?? [] })), total };
  }

  /** The live process `id` with its live steps; NotFoundError when there is none. */
  async get(em: EntityManager, id: number): Promise<ProcessWithSteps> {
    const process = await liveProcess(em, id);
    const steps = await this.#stepsOf(em, [id]);
    return { process, steps: steps.get(id) ?? [] };
  }

  /**
   * Applies `changes` to the live process `id` (`meta` and `neutralize_keep_keys` replaced as a whole).
   * A changed `retention_months` recomputes `scheduled_deletion_at` of every run of the process
   * (soft-deleted runs too, so a restored run is scheduled by the current retention) in one statement,
   * in the same transaction. A non-admin caller sending admin-only settings gets ForbiddenError before
   * anything is read or written.
   */
  async update(
    em: EntityManager,
    id: number,
    changes: ProcessChanges,
    caller: { isAdmin: boolean; sent: ReadonlySet<string> },
  ): Promise<ProcessWithSteps> {
    if (!caller.isAdmin) refuseAdminOnlySettings(changes, caller.sent, false);
    let fieldsChanged = false;
    await em.transactional(async (tx) => {
      const process = await liveProcess(tx, id);
      const indexedBefore = indexedMetaFields(process.meta);
      if (changes.name !== undefined) process.name = changes.name;
      if (changes.meta !== undefined) process.meta = changes.meta;
      const indexed = indexedMetaFields(process.meta);
      if (changes.neutralize_keep_keys !== undefined)
        process.neutralize_keep_keys = changes.neutralize_keep_keys;
      const retention = changes.retention_months;
      const reschedule = retention !== undefined && retention !== process.retention_months;
      if (retention !== undefined) process.retention_months = retention;
      await tx.flush();
      if (reschedule) await rescheduleRuns(tx, this.#dialect, id, retention);
      // The flush wrote the process's row, so the transactions indexing its runs (lockProcessMeta) have
      // finished or wait for this one: the rebuild sees every run, and they index with the new fields.
      fieldsChanged = indexed.join('\n') !== indexedBefore.join('\n');
      if (fieldsChanged) await reindexProcessFields(tx, this.#dialect, id, indexed);
    });
    if (fieldsChanged) await reindexProcessAfterCommit(em, this.#dialect, id);
    return this.get(em, id);
  }

  /** Live steps of these processes, by process id, each list ordered by index. */
  async #stepsOf(em: EntityManager, processIds: number[]): Promise<Map<number, ProcessStep[]>> {
    if (processIds.length === 0) return new Map();
    const steps = await em.find(
      ProcessStep,
      { process: { $in: processIds } },
      { orderBy: { process: 'asc', index: 'asc' } },
    );
    return Map.groupBy(steps, (step) => step.process.id);
  }
}
