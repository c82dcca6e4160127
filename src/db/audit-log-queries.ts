/**
 * The SQL of reading the audit trail (listAuditLogs, listAuditLogUsers, listAuditLogActions,
 * getAuditLogStats), built with MikroORM's QueryBuilder for all three dialects. `mssql-queries.ts` renders
 * these same builders offline so `make check-tsql` parses the T-SQL they emit.
 *
 * Every value is a bound parameter (strings of raw fragments through `unicodeParams`, so SQL Server reads
 * them as `N'…'`); column names never come from the request. Statistics are aggregates the database
 * computes (COUNT, SUM, AVG, GROUP BY): no entry is loaded to count it.
 */
import { raw, type Platform } from '@mikro-orm/core';
import type { QueryBuilder, SqlEntityManager } from '@mikro-orm/sql';
import { AuditLog } from '../entities/index.ts';
import type { Dialect } from './database-url.ts';
import { likeContains, unicodeParams } from './run-queries.ts';

/** The filters of listAuditLogs; all optional, combined with AND. */
export interface AuditLogFilters {
  /** Exact match. */
  user_email?: string;
  /** Exact match. */
  action?: string;
  method?: string;
  /** Case-insensitive "contains" (Unicode lower case on every database; LIKE wildcards match literally). */
  path?: string;
  status_code?: number;
  /** At least this many milliseconds. */
  min_duration?: number;
  api_key_id?: number;
  /** The key's role at the time of the request. */
  role?: 'admin' | 'user';
  /** Exact match of the contract's operationId. */
  operation_id?: string;
  /** Inclusive. */
  created_after?: Date;
  /** Inclusive. */
  created_before?: Date;
  resource_type?: string;
  /** Compared with the stored text of the id (`resource_id` is a text column holding the decimal id). */
  resource_id?: number;
}

export interface AuditLogListQuery {
  filters: AuditLogFilters;
  offset: number;
  limit: number;
}

/** The entries a statistic covers: created at or after `since`, by `user_email` when given. */
export interface AuditLogStatsScope {
  since: Date;
  user_email?: string;
}

/** A row of `auditStatsTotalsQuery`: drivers answer numbers, or strings for bigint and numeric. */
export interface AuditStatsTotalsRow {
  total_requests: number | string;
  success_count: number | string | null;
  error_count: number | string | null;
  average_duration_ms: number | string | null;
}

/** A row of the grouped statistics: the group's value (`method`, `action` or `user_email`) and its count. */
export interface AuditStatsGroupRow {
  value: string;
  count: number | string;
}

/** The columns listAuditLogUsers and listAuditLogActions list the distinct values of. */
export type AuditLogValueColumn = 'user_email' | 'action';

type AuditQueryBuilder = QueryBuilder<AuditLog, 'a'>;

/** `a.path` contains `text`, ignoring case (see run-queries.ts `entityNameContains` for the idiom). */
function pathContains(platform: Platform, dialect: Dialect, text: string) {
  const like = likeContains(dialect, text.toLowerCase());
  return raw(`lower(a.path) like ?${like.escape}`, unicodeParams(platform, [like.pattern]));
}

function applyFilters(
  qb: AuditQueryBuilder,
  platform: Platform,
  dialect: Dialect,
  filters: AuditLogFilters,
): AuditQueryBuilder {
  const conditions: object[] = [];
  const add = (condition: object) => conditions.push(condition);
  if (filters.user_email !== undefined) add({ user_email: filters.user_email });
  if (filters.action !== undefined) add({ action: filters.action });
  if (filters.method !== undefined) add({ method: filters.method });
  if (filters.path !== undefined) add({ [pathContains(platform, dialect, filters.path)]: [] });
  if (filters.status_code !== undefined) add({ status_code: filters.status_code });
  if (filters.min_duration !== undefined) add({ duration_ms: { $gte: filters.min_duration } });
  if (filters.api_key_id !== undefined) add({ api_key_id: filters.api_key_id });
  if (filters.role !== undefined) add({ api_key_role: filters.role });
  if (filters.operation_id !== undefined) add({ operation_id: filters.operation_id });
  if (filters.created_after !== undefined) add({ created_at: { $gte: filters.created_after } });
  if (filters.created_before !== undefined) add({ created_at: { $lte: filters.created_before } });
  if (filters.resource_type !== undefined) add({ resource_type: filters.resource_type });
  if (filters.resource_id !== undefined) add({ resource_id: String(filters.resource_id) });
  return conditions.length === 0 ? qb : qb.where({ $and: conditions });
}

/** One page of entries matching the filters, newest first (created_at, then id, descending). */
export function auditLogPageQuery(
  em: SqlEntityManager,
  dialect: Dialect,
  query: AuditLogListQuery,
): AuditQueryBuilder {
  const qb = em.createQueryBuilder(AuditLog, 'a').select('*');
  applyFilters(qb, em.getPlatform(), dialect, query.filters);
  // SQL Server needs the ORDER BY for its OFFSET … FETCH; id makes the order total.
  return qb
    .orderBy([{ created_at: 'desc' }, { id: 'desc' }])
    .limit(query.limit)
    .offset(query.offset);
}

/** The number of entries matching the filters. */
export function auditLogCountQuery(
  em: SqlEntityManager,
  dialect: Dialect,
  filters: AuditLogFilters,
): AuditQueryBuilder {
  const qb = em.createQueryBuilder(AuditLog, 'a').count('a.id');
  return applyFilters(qb, em.getPlatform(), dialect, filters);
}

/**
 * The distinct non-null values of `column` (rows `{ [column]: value }`), ordered by the database's
 * collation. The ORDER BY names the selected column itself, as SELECT DISTINCT demands on PostgreSQL and
 * SQL Server.
 */
export function distinctAuditValuesQuery(em: SqlEntityManager, column: AuditLogValueColumn) {
  return em
    .createQueryBuilder(AuditLog, 'a')
    .select([`a.${column}`], true)
    .where({ [column]: { $ne: null } })
    .orderBy({ [column]: 'asc' });
}

function scoped(em: SqlEntityManager, scope: AuditLogStatsScope): AuditQueryBuilder {
  const conditions: object[] = [{ created_at: { $gte: scope.since } }];
  if (scope.user_email !== undefined) conditions.push({ user_email: scope.user_email });
  return em.createQueryBuilder(AuditLog, 'a').where({ $and: conditions });
}

/**
 * One row over the entries of `scope`: `total_requests`, `success_count` (status < 400), `error_count`
 * (status >= 400) and `average_duration_ms` (null when there is none).
 */
export function auditStatsTotalsQuery(em: SqlEntityManager, scope: AuditLogStatsScope) {
  return scoped(em, scope).select([
    raw('count(*)').as('total_requests'),
    raw('coalesce(sum(case when a.status_code < 400 then 1 else 0 end), 0)').as('success_count'),
    raw('coalesce(sum(case when a.status_code >= 400 then 1 else 0 end), 0)').as('error_count'),
    raw('avg(a.duration_ms)').as('average_duration_ms'),
  ]);
}

/**
 * The entries of `entries` counted per value of `column` (rows `{ value, count }`), most first, ties by
 * value; entries without a value left out; at most `limit` rows when given.
 */
export function countsPerValue(
  entries: AuditQueryBuilder,
  column: 'method' | 'action' | 'user_email' | 'path',
  limit?: number,
) {
  const counted = entries
    .andWhere({ [column]: { $ne: null } })
    .select([raw(`a.${column}`).as('value'), raw('count(*)').as('count')])
    .groupBy(`a.${column}`)
    .orderBy([{ [raw('count(*)')]: 'desc' }, { [column]: 'asc' }]);
  return limit === undefined ? counted : counted.limit(limit);
}

/** The number of entries of `scope` per HTTP method (`value`), most first. */
export function auditStatsByMethodQuery(em: SqlEntityManager, scope: AuditLogStatsScope) {
  return countsPerValue(scoped(em, scope), 'method');
}

/** The number of entries of `scope` per action (`value`), most first; entries without an action left out. */
export function auditStatsByActionQuery(em: SqlEntityManager, scope: AuditLogStatsScope) {
  return countsPerValue(scoped(em, scope), 'action');
}

/** The `limit` users (`value`) with the most entries in `scope`, most first; entries without a user left out. */
export function auditStatsTopUsersQuery(em: SqlEntityManager, scope: AuditLogStatsScope, limit: number) {
  return countsPerValue(scoped(em, scope), 'user_email', limit);
}
