/**
 * PostgreSQL only: trigram indexes (the `pg_trgm` extension, GIN) for the "contains" searches that no
 * B-tree can serve — `entity_name` in `GET /runs` and `entity_id`/`entity_name` in `GET /runs/search` —
 * on exactly the expressions those queries compare (`lower(column) like '%text%'`). With them an exact
 * `total` of a selective search reads the matching runs instead of every run (issue 9; docs/query-plans.md).
 * SQLite and SQL Server have no such index: there these searches still read every live run.
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

/** The trigram-indexed columns of `process_run`. */
const TRIGRAM_COLUMNS = ['entity_id', 'entity_name'] as const;

export function trigramIndexName(column: (typeof TRIGRAM_COLUMNS)[number]): string {
  return `process_run_${column}_trgm_index`;
}

export function addTrigramIndexesOnPostgres(meta: EntityMetadata): void {
  if (meta.tableName !== 'process_run') return;
  for (const column of TRIGRAM_COLUMNS) {
    const name = trigramIndexName(column);
    if (meta.indexes.some((index) => index.name === name)) continue;
    meta.indexes.push({
      name,
      expression: `create index "${name}" on "process_run" using gin (lower("${column}") gin_trgm_ops)`,
    });
  }
}
