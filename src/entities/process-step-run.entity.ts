import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { EnumNameType } from '../db/types/enum-name.type.ts';
import { softDeleteFilter, softDeleteProperties, timestampProperties } from './common.ts';
import { ProcessRun } from './process-run.entity.ts';
import { ProcessStep } from './process-step.entity.ts';

export const STEP_RUN_STATUSES = [
  'pending',
  'running',
  'success',
  'failed',
  'cancelled',
  'optional',
] as const;
export type StepRunStatus = (typeof STEP_RUN_STATUSES)[number];

/** The execution of one step within one run (re-runs are new rows pointing at the original via `rerun_of`). */
export const ProcessStepRun = defineEntity({
  name: 'ProcessStepRun',
  tableName: 'process_step_run',
  filters: softDeleteFilter(),
  properties: {
    id: p.integer().primary().autoincrement(),
    // No index of their own (MikroORM gives every many-to-one one): `run_id` leads the composite index
    // below, which serves every lookup and foreign-key check by it; a step is never deleted (only hidden),
    // so nothing looks step runs up by `step_id` alone. A new run writes one step run per step, so each
    // index less is a B-tree page less per step in every run's commit.
    run: () =>
      p
        .manyToOne(ProcessRun)
        .fieldName('run_id')
        .index(false)
        .deleteRule('no action')
        .updateRule('no action'),
    step: () =>
      p
        .manyToOne(ProcessStep)
        .fieldName('step_id')
        .index(false)
        .deleteRule('no action')
        .updateRule('no action'),
    step_index: p.integer(),
    status: p
      .type(EnumNameType<StepRunStatus>)
      .length(20)
      .$type<StepRunStatus>(),
    started_at: p.datetime().nullable(),
    finished_at: p.datetime().nullable(),
    failure: p.json<Record<string, unknown>>().nullable(),
    meta: p.json<Record<string, unknown>>().nullable(),
    last_modified_by: p.string().length(255).nullable(),
    can_rerun: p.boolean().default(false),
    rerun_config: p.json<Record<string, unknown>>().onCreate(() => ({})),
    rerun_count: p.integer().default(0),
    max_reruns: p.integer().default(0),
    /** The step run this one re-runs (null for a first execution). Self reference: no cascades (SQL Server). */
    rerun_of: () =>
      p
        .manyToOne(ProcessStepRun)
        .fieldName('rerun_of_id')
        .nullable()
        .index()
        .deleteRule('no action')
        .updateRule('no action'),
    ...timestampProperties(),
    ...softDeleteProperties(),
  },
  indexes: [
    { name: 'process_step_run_run_id_step_index_index', properties: ['run', 'step_index'] },
    // `GET /runs?failed_at=` reads the failed step runs of one step (run-queries.ts FAILED_AT). Only failed
    // ones: a new run's step runs (pending) and a report's status change touch it only to or from `failed`.
    {
      name: 'process_step_run_failed_step_id_index',
      properties: ['step'],
      where: "status = 'FAILED'",
    },
    // A restore finds the rows of one delete by its token (lifecycle-queries.ts); only hidden rows have one.
    {
      name: 'process_step_run_deletion_token_index',
      properties: ['deletion_token'],
      where: { deletion_token: { $ne: null } },
    },
  ],
});

export type ProcessStepRun = InferEntity<typeof ProcessStepRun>;
