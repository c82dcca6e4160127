import type { Schemas } from '../../contract.ts';
import type { RunWithSteps } from '../../services/run.service.ts';
import { toProcessStepRun } from '../step-runs/step-runs.mapper.ts';
import { iso } from '../../util/timestamps.ts';
import { refId } from '../../db/records.ts';

/** A run with its current step runs (ordered by step_index) as the contract shows it. */
export function toProcessRun({ run, steps }: RunWithSteps): Schemas['ProcessRun'] {
  return {
    id: run.id,
    process_id: refId(run.process),
    entity_id: run.entity_id,
    entity_name: run.entity_name ?? null,
    status: run.status,
    meta: run.meta,
    started_at: iso(run.started_at),
    finished_at: iso(run.finished_at),
    is_neutralized: run.is_neutralized,
    scheduled_deletion_at: iso(run.scheduled_deletion_at),
    created_at: run.created_at.toISOString(),
    updated_at: run.updated_at.toISOString(),
    steps: steps.map(toProcessStepRun),
  };
}
