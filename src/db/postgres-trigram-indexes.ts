/**
 * PostgreSQL only: trigram indexes (the `pg_trgm` extension, GIN) for the "contains" searches that no
 * B-tree can serve — `entity_name` in `GET /runs`, and in `GET /runs/search` `entity_id`, `entity_name`
 * and the values of a process's declared run fields (`process_run_field.value`, src/db/run-fields.ts) —
 * on exactly the expressions those queries compare (`lower(column) like '%text%'`). With them an exact
 * `total` of a selective search reads the matching rows instead of every run (issue 9; docs/query-plans.md).
 * SQLite has its own trigram index (sqlite-run-text.ts); SQL Server has none: there these searches still
 * read every live run.
 *
 * Not partial (soft-deleted runs are few): ANALYZE gathers statistics on the expressions of non-partial
 * indexes only, and without them the planner guesses a common name matches a few hundred runs and sorts
 * 94,000 matches for a page that an index scan in `created_at` order finds in 1 ms (measured at 1M runs).
 *
 * Added to the entity metadata on PostgreSQL alone (an entity's own index list is shared by every
 * dialect), so the PostgreSQL migrations, snapshot and schema checks know them; MikroORM compares
 * expression indexes by name.
 */
import type { EntityMetadata } from '@mikro-orm/core';

/**
 * The trigram-indexed columns, by table, each with the columns it is indexed after (`btree_gin`: equality
 * on them narrows the same index scan). A process's field values are searched within the process: with
 * `process_id` in the index a search reads the rows of that process that contain the text (22,782 for
 * `aarhus` at a million runs: 25–30 ms), not those of every process (114,522: 53 ms).
 */
const TRIGRAM_COLUMNS: Readonly<Record<string, readonly { column: string; after?: string }[]>> = {
  process_run: [{ column: 'entity_id' }, { column: 'entity_name' }],
  process_run_field: [{ column: 'value', after: 'process_id' }],
};

export function trigramIndexName(table: string, column: string): string {
  return `${table}_${column}_trgm_index`;
}

export function addTrigramIndexesOnPostgres(meta: EntityMetadata): void {
  const table = meta.tableName;
  for (const { column, after } of TRIGRAM_COLUMNS[table] ?? []) {
    const name = trigramIndexName(table, column);
    if (meta.indexes.some((index) => index.name === name)) continue;
    const leading = after === undefined ? '' : `"${after}", `;
    meta.indexes.push({
      name,
      expression: `create index "${name}" on "${table}" using gin (${leading}lower("${column}") gin_trgm_ops)`,
    });
  }
}
