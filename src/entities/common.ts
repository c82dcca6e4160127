/**
 * Column groups shared by several entities.
 *
 * Each helper returns FRESH property builders (builders are mutable objects, so they must not be shared
 * between entities). Property names equal the wire names and the column names (snake_case), so the
 * naming strategy leaves them untouched.
 *
 * Conventions, valid for all three dialects (SQLite, PostgreSQL, SQL Server):
 * - timestamps are `p.datetime()`: JS `Date`, stored as UTC (`forceUtcTimezone` in orm-config.ts);
 * - JSON columns are `p.json()`, stored as text as the original stored them: text on PostgreSQL
 *   (db/json-properties.ts), json (text) on SQLite, nvarchar(max) on SQL Server;
 * - strings are `p.string().length(n)`: varchar(n) on SQLite/PostgreSQL, nvarchar(n) on SQL Server.
 */
import { p } from '@mikro-orm/core';

/** Name of the default filter that hides soft-deleted rows (see `softDeleteFilter`). */
export const SOFT_DELETE_FILTER = 'softDelete';

/** `created_at` / `updated_at`, maintained by MikroORM on flush (not by the database). */
export function timestampProperties() {
  return {
    created_at: p.datetime().onCreate(() => new Date()),
    updated_at: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  };
}

/**
 * `deleted_at` / `deletion_token`.
 *
 * `deletion_token` (a UUID string) is shared by every row hidden by one cascading soft delete, so a
 * restore brings back exactly those rows (and not rows that had been deleted on their own before).
 */
export function softDeleteProperties() {
  return {
    deleted_at: p.datetime().nullable(),
    deletion_token: p.string().length(36).nullable(),
  };
}

/**
 * Entity `filters` option for soft-deletable entities: a filter named `softDelete`, enabled by default,
 * so every `em.find*()` / `em.count()` (and relation loading through the EntityManager) hides rows whose
 * `deleted_at` is set. Show them with `{ filters: { softDelete: false } }` (or `{ filters: false }`).
 *
 * IMPORTANT: a QueryBuilder (`em.createQueryBuilder()` / `em.qb()`) does NOT apply filters unless asked:
 * call `await qb.applyFilters()` (or `applySoftDeleteFilter(qb)` from src/db/soft-delete.ts) or add
 * `deleted_at is null` to the where clause yourself. Raw SQL (`em.execute`) never applies filters.
 */
export function softDeleteFilter() {
  return {
    [SOFT_DELETE_FILTER]: { name: SOFT_DELETE_FILTER, cond: { deleted_at: null }, default: true },
  };
}
