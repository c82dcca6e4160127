import type { Schemas } from '../../contract.ts';
import type { ProcessWithSteps } from '../../services/process.service.ts';
import { toProcessStep } from '../steps/steps.mapper.ts';

/** A process with its live steps (ordered by index) as the contract shows it. */
export function toProcess({ process, steps }: ProcessWithSteps): Schemas['Process'] {
  return {
    id: process.id,
    name: process.name,
    meta: process.meta,
    retention_months: process.retention_months ?? null,
    neutralize_keep_keys: process.neutralize_keep_keys ?? null,
    created_at: process.created_at.toISOString(),
    updated_at: process.updated_at.toISOString(),
    steps: steps.map(toProcessStep),
  };
}
