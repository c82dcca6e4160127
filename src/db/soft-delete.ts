/**
 * Soft delete and QueryBuilders.
 *
 * `em.find*()` / `em.count()` apply the default `softDelete` filter of the entities (deleted rows are
 * hidden unless `{ filters: { softDelete: false } }`). A QueryBuilder does NOT apply filters by itself:
 * call this helper (or add `deleted_at is null` yourself) before executing it.
 */
import type { FilterOptions } from '@mikro-orm/core';
import { SOFT_DELETE_FILTER } from '../entities/common.ts';

export { SOFT_DELETE_FILTER };

/** Options fragment that shows soft-deleted rows too: `em.find(Process, {}, { ...includeDeleted })`. */
export const includeDeleted = { filters: { [SOFT_DELETE_FILTER]: false } } as const;

/** Applies the `softDelete` filter (and the other default filters) to a QueryBuilder; returns it. */
export async function applySoftDeleteFilter<
  QB extends { applyFilters(filterOptions?: FilterOptions): Promise<void> },
>(qb: QB): Promise<QB> {
  await qb.applyFilters({ [SOFT_DELETE_FILTER]: true });
  return qb;
}
