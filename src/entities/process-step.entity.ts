import { defineEntity, p, raw, type InferEntity } from '@mikro-orm/core';
import { softDeleteFilter, softDeleteProperties, timestampProperties } from './common.ts';
import { Process } from './process.entity.ts';

/** One step of a process definition, ordered by `index` (0-based). */
export const ProcessStep = defineEntity({
  name: 'ProcessStep',
  tableName: 'process_step',
  filters: softDeleteFilter(),
  properties: {
    id: p.integer().primary().autoincrement(),
    process: () =>
      p.manyToOne(Process).fieldName('process_id').deleteRule('no action').updateRule('no action'),
    // `index` is a reserved word: `??` quotes it with the identifier quotes of each dialect.
    index: p.integer().check(() => raw('?? >= 0', ['index'])),
    name: p.string().length(255),
    is_rerunnable: p.boolean().default(false),
    rerun_config: p.json<Record<string, unknown>>().onCreate(() => ({})),
    ...timestampProperties(),
    ...softDeleteProperties(),
  },
  uniques: [
    {
      // A step index is unique among the live steps of a process; a soft-deleted step frees its index.
      // Rendered as a filtered/partial unique index (`... where deleted_at is null`) on all three dialects.
      name: 'process_step_process_id_index_live_unique',
      properties: ['process', 'index'],
      where: { deleted_at: null },
    },
  ],
});

export type ProcessStep = InferEntity<typeof ProcessStep>;
