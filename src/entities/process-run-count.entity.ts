import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { EnumNameType } from '../db/types/enum-name.type.ts';
import type { RunStatus } from './process-run.entity.ts';

/**
 * The number of live runs of a process per status, kept in step with `process_run` in the same
 * transactions that change it (src/db/run-counts.ts), so `total` of an unfiltered or status-filtered run
 * list and the dashboards' counts are read from a few rows instead of counting every run. One row per
 * live process and run status, created with the process; `status` stored as `process_run.status` is.
 *
 * Beside the count, the runs of the row that have both times: how many (`timed_count`) and the sum of
 * their durations in milliseconds (`duration_ms_sum`), so the dashboards' average completion time is one
 * division instead of a read of every completed run.
 */
export const ProcessRunCount = defineEntity({
  name: 'ProcessRunCount',
  tableName: 'process_run_count',
  properties: {
    process_id: p.integer().primary().autoincrement(false),
    status: p
      .type(EnumNameType<RunStatus>)
      .length(20)
      .primary()
      .$type<RunStatus>(),
    run_count: p.integer().default(0),
    timed_count: p.integer().default(0),
    duration_ms_sum: p.bigint('number').default(0),
  },
});

export type ProcessRunCount = InferEntity<typeof ProcessRunCount>;
