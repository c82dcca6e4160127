import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/**
 * The values of a run's declared meta fields (`run_metadata_schema` of its process), one row per run and
 * field, so `meta_filter` and a process's filter metadata read a B-tree index instead of the JSON of every
 * run (src/db/run-fields.ts). Live runs only: written in the same transactions that write a run's `meta`
 * or delete or restore it, so a count by value reads this index alone.
 *
 * `value` is the text `meta_filter` compares (`metaText`), for strings, numbers and booleans; null when
 * that text is longer than `INDEXED_VALUE_LENGTH` characters or the value is a JSON object or array (a
 * filter on such a value reads the JSON of these few runs). Fields that are missing or JSON null have no
 * row (their text is null).
 */
export const ProcessRunField = defineEntity({
  name: 'ProcessRunField',
  tableName: 'process_run_field',
  properties: {
    run_id: p.integer().primary().autoincrement(false),
    field: p.string().length(100).primary(),
    process_id: p.integer(),
    value: p.string().length(400).nullable(),
  },
  indexes: [
    {
      name: 'process_run_field_process_id_field_value_index',
      properties: ['process_id', 'field', 'value', 'run_id'],
    },
  ],
});

export type ProcessRunField = InferEntity<typeof ProcessRunField>;
