import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { EnumNameType } from '../db/types/enum-name.type.ts';
import { softDeleteFilter, softDeleteProperties, timestampProperties } from './common.ts';
import { Process } from './process.entity.ts';
import { ProcessStepRun } from './process-step-run.entity.ts';

export const RUN_STATUSES = ['pending', 'running', 'completed', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** One execution of a process for one business entity (`entity_id`). */
export const ProcessRun = defineEntity({
  name: 'ProcessRun',
  tableName: 'process_run',
  filters: softDeleteFilter(),
  properties: {
    id: p.integer().primary().autoincrement(),
    process: () =>
      p.manyToOne(Process).fieldName('process_id').deleteRule('no action').updateRule('no action'),
    entity_id: p.string().length(100).index(),
    entity_name: p.string().length(255).nullable(),
    // Plain string column (not a native enum / check constraint) so adding a status needs no migration
    // that differs per dialect; the API validates the value against RUN_STATUSES.
    status: p
      .type(EnumNameType<RunStatus>)
      .length(20)
      .$type<RunStatus>(),
    meta: p.json<Record<string, unknown>>().onCreate(() => ({})),
    started_at: p.datetime().nullable().index(),
    finished_at: p.datetime().nullable().index(),
    is_neutralized: p.boolean().default(false),
    neutralized_at: p.datetime().nullable(),
    scheduled_deletion_at: p.datetime().nullable(),
    ...timestampProperties(),
    ...softDeleteProperties(),
    step_runs: () => p.oneToMany(ProcessStepRun).mappedBy('run'),
  },
  // The hot queries read live rows only (`deleted_at is null`) in `created_at desc, id desc` order, and
  // count them. Partial (filtered) indexes over the live rows give the page in order and the count from
  // the index alone on all three dialects (docs/query-plans.md has the plans):
  // - a leading `deleted_at` column would not do: PostgreSQL's planner does not take `is null` as fixing a
  //   column for the order, and scans the table;
  // - a trailing `deleted_at` column is needed: SQLite counts a partial index as covering only when it
  //   holds every column the query names, the filter's own included.
  indexes: [
    {
      name: 'process_run_process_id_live_created_at_index',
      properties: ['process', 'created_at', 'id', 'deleted_at'],
      where: { deleted_at: null },
    },
    {
      name: 'process_run_live_created_at_index',
      properties: ['created_at', 'id', 'deleted_at'],
      where: { deleted_at: null },
    },
    {
      name: 'process_run_status_live_created_at_index',
      properties: ['status', 'created_at', 'id', 'deleted_at'],
      where: { deleted_at: null },
    },
    // The dashboards' counts per status and average completion time of one process, from the index alone.
    {
      name: 'process_run_process_id_live_status_times_index',
      properties: ['process', 'status', 'started_at', 'finished_at', 'deleted_at'],
      where: { deleted_at: null },
    },
    // A restore finds the rows of one delete by its token (lifecycle-queries.ts); only hidden rows have one.
    {
      name: 'process_run_deletion_token_index',
      properties: ['deletion_token'],
      where: { deletion_token: { $ne: null } },
    },
    {
      name: 'process_run_scheduled_deletion_at_is_neutralized_index',
      properties: ['scheduled_deletion_at', 'is_neutralized'],
    },
  ],
});

export type ProcessRun = InferEntity<typeof ProcessRun>;
