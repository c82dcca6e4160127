import type { Schemas } from '../../contract.ts';
import type { ProcessStep } from '../../entities/index.ts';

/** A step of a process definition as the contract shows it. */
export function toProcessStep(step: ProcessStep): Schemas['ProcessStep'] {
  return {
    id: step.id,
    process_id: step.process.id,
    index: step.index,
    name: step.name,
    is_rerunnable: step.is_rerunnable,
    rerun_config: step.rerun_config,
    created_at: step.created_at.toISOString(),
    updated_at: step.updated_at.toISOString(),
  };
}
