import type { EntityManager } from '@mikro-orm/core';
import { touchProcessRow } from '../db/run-fields.ts';
import { ProcessStep } from '../entities/index.ts';
import { ConflictError } from '../errors/domain-errors.ts';
import { liveProcess, refuseIfProcessDeletedMeanwhile } from './process.service.ts';

export interface NewStep {
  process_id: number;
  index: number;
  name: string;
  is_rerunnable?: boolean;
  rerun_config?: Record<string, unknown>;
}

/** Steps of process definitions (any role). */
export class StepService {
  /**
   * Adds a step to the live process `input.process_id` (NotFoundError otherwise). An index already held
   * by a live step of the process is a ConflictError; two requests racing for the same index are caught
   * by the partial unique index, whose violation the problem handler answers with 409 as well. When the
   * process was deleted while this ran, the step is hidden with it and the answer is NotFoundError.
   */
  async create(em: EntityManager, input: NewStep): Promise<ProcessStep> {
    const step = await em.transactional(async (tx) => {
      // First: a new run copies the process's live steps, so adding one is a change of the process.
      await touchProcessRow(tx, input.process_id);
      const process = await liveProcess(tx, input.process_id);
      const taken = await tx.count(ProcessStep, { process: process.id, index: input.index });
      if (taken > 0) {
        throw new ConflictError(`Process ${process.id} already has a step with index ${input.index}`);
      }
      const step = tx.create(ProcessStep, {
        process,
        index: input.index,
        name: input.name,
        is_rerunnable: input.is_rerunnable ?? false,
        rerun_config: input.rerun_config ?? {},
      });
      await tx.flush();
      return step;
    });
    await refuseIfProcessDeletedMeanwhile(em, input.process_id);
    return step;
  }

  /**
   * The live steps with this `process_id`, ordered by index (only the rerunnable ones when asked). Selected
   * by process id alone, as the original: an unknown or soft-deleted process has none.
   */
  async listByProcess(
    em: EntityManager,
    processId: number,
    options: { rerunnableOnly?: boolean } = {},
  ): Promise<ProcessStep[]> {
    return em.find(
      ProcessStep,
      { process: processId, ...(options.rerunnableOnly === true ? { is_rerunnable: true } : {}) },
      { orderBy: { index: 'asc' } },
    );
  }
}
