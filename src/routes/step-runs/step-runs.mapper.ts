import type { Schemas } from '../../contract.ts';
import { refId, type StepRunShape } from '../../db/records.ts';
import { iso } from '../../util/timestamps.ts';

/** A step run as the contract shows it. */
export function toProcessStepRun(stepRun: StepRunShape): Schemas['ProcessStepRun'] {
  return {
    id: stepRun.id,
    run_id: refId(stepRun.run),
    step_id: refId(stepRun.step),
    step_index: stepRun.step_index,
    status: stepRun.status,
    started_at: iso(stepRun.started_at),
    finished_at: iso(stepRun.finished_at),
    failure: stepRun.failure ?? null,
    meta: stepRun.meta ?? null,
    last_modified_by: stepRun.last_modified_by ?? null,
    can_rerun: stepRun.can_rerun,
    rerun_config: stepRun.rerun_config,
    rerun_count: stepRun.rerun_count,
    max_reruns: stepRun.max_reruns,
    rerun_of_id: stepRun.rerun_of == null ? null : refId(stepRun.rerun_of),
    created_at: stepRun.created_at.toISOString(),
    updated_at: stepRun.updated_at.toISOString(),
  };
}
