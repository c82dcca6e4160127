/**
 * A page of a process's runs sorted by a declared meta field (`order_by=meta.<field>`), read in the order
 * of `process_run_field`'s index (src/db/run-fields.ts) instead of sorting the JSON of every run.
 *
 * The order is the one `GET /runs` defines (run-queries.ts `applyOrder`): the field's text (`metaText`),
 * runs without one last, id breaking ties, all in the sort direction but the nulls. The index gives it in
 * two segments:
 * 1. the runs with a row, by `value` then `run_id` (the index's own order: its rows hold the very text the
 *    JSON sort compares, under the same collation) — exact only when no row of the field has `value` null
 *    (a text too long for the index, or a JSON object or array: `hasUnknownValuesSql`);
 * 2. then the runs without a row (the field missing or JSON null: a null text), by id.
 *
 * For a list filtered by nothing but its process and statuses (run.service.ts `metaOrderedPage`).
 * Statements of this file are rendered for `make check-tsql` in `mssql-queries.ts`.
 */
import type { Platform } from '@mikro-orm/core';
import type { RunStatus } from '../entities/index.ts';
import type { Dialect } from './database-url.ts';
import { placeholders, unicodeParams, type SqlFragment } from './run-queries.ts';

/** What a page sorted by an indexed meta field names. */
export interface FieldOrderPage {
  processId: number;
  field: string;
  /** Any of these statuses (none: every status). */
  statuses: readonly RunStatus[];
  direction: 'asc' | 'desc';
  offset: number;
  limit: number;
}

/** `limit`/`offset` after an ORDER BY, as the dialect writes it. */
function pageClause(dialect: Dialect, offset: number, limit: number): SqlFragment {
  return dialect === 'mssql'
    ? { sql: 'offset ? rows fetch next ? rows only', params: [offset, limit] }
    : { sql: 'limit ? offset ?', params: [limit, offset] };
}

/** `and r.status in (…)` for the statuses (stored as their upper-case names), or nothing. */
function statusCondition(statuses: readonly RunStatus[]): SqlFragment {
  return statuses.length === 0
    ? { sql: '', params: [] }
    : {
        sql: ` and r.status in (${placeholders(statuses)})`,
        params: statuses.map((status) => status.toUpperCase()),
      };
}

/**
 * Whether any live run of the process has a row of `field` with `value` null: a text the index cannot
 * hold, so segment 1 would not know where it sorts. Answers one row `{ unknown: 0 | 1 }`.
 */
export function hasUnknownValuesSql(platform: Platform, processId: number, field: string): SqlFragment {
  return {
    sql:
      'select case when exists (select 1 from process_run_field m where m.process_id = ? and m.field = ? ' +
      'and m.value is null) then 1 else 0 end as unknown',
    params: [processId, ...unicodeParams(platform, [field])],
  };
}

/** Segment 1 of the page: runs with a value, in the index's order (records of `process_run`). */
export function valuedRunsPageSql(platform: Platform, dialect: Dialect, page: FieldOrderPage): SqlFragment {
  const status = statusCondition(page.statuses);
  const paging = pageClause(dialect, page.offset, page.limit);
  return {
    sql:
      'select r.* from process_run_field m inner join process_run r on r.id = m.run_id ' +
      `where m.process_id = ? and m.field = ? and r.deleted_at is null${status.sql} ` +
      `order by m.value ${page.direction}, m.run_id ${page.direction} ${paging.sql}`,
    params: [page.processId, ...unicodeParams(platform, [page.field]), ...status.params, ...paging.params],
  };
}

/** How many runs segment 1 holds in all: one row `{ count }`. */
export function valuedRunsCountSql(
  platform: Platform,
  page: Pick<FieldOrderPage, 'processId' | 'field' | 'statuses'>,
): SqlFragment {
  const status = statusCondition(page.statuses);
  // Without statuses the index alone answers (its rows are of live runs only).
  const join = status.sql === '' ? '' : ' inner join process_run r on r.id = m.run_id';
  return {
    sql:
      `select count(*) as count from process_run_field m${join} where m.process_id = ? and m.field = ?` +
      (status.sql === '' ? '' : ` and r.deleted_at is null${status.sql}`),
    params: [page.processId, ...unicodeParams(platform, [page.field]), ...status.params],
  };
}

/**
 * Segment 2 of the page: live runs of the process without a row of `field`, by id (`offset` counted from
 * the segment's start). Reads every run of the process: only for pages past the last value.
 */
export function unvaluedRunsPageSql(platform: Platform, dialect: Dialect, page: FieldOrderPage): SqlFragment {
  const status = statusCondition(page.statuses);
  const paging = pageClause(dialect, page.offset, page.limit);
  return {
    sql:
      `select r.* from process_run r where r.process_id = ? and r.deleted_at is null${status.sql} ` +
      'and not exists (select 1 from process_run_field m where m.run_id = r.id and m.field = ?) ' +
      `order by r.id ${page.direction} ${paging.sql}`,
    params: [page.processId, ...status.params, ...unicodeParams(platform, [page.field]), ...paging.params],
  };
}
