import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { softDeleteFilter, softDeleteProperties, timestampProperties } from './common.ts';
import { ProcessRun } from './process-run.entity.ts';
import { ProcessStep } from './process-step.entity.ts';

/** A monitored process (its definition: name, steps, retention, neutralisation overrides). */
export const Process = defineEntity({
  name: 'Process',
  tableName: 'process',
  filters: softDeleteFilter(),
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(255),
    meta: p.json<Record<string, unknown>>().onCreate(() => ({})),
    retention_months: p.integer().nullable(),
    /** Per-process override of the neutralisation allow-list (null: use the global default). */
    neutralize_keep_keys: p.json<string[]>().nullable(),
    ...timestampProperties(),
    ...softDeleteProperties(),
    steps: () => p.oneToMany(ProcessStep).mappedBy('process'),
    runs: () => p.oneToMany(ProcessRun).mappedBy('process'),
  },
});

export type Process = InferEntity<typeof Process>;
