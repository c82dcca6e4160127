import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import {
  auditLogCountQuery,
  auditLogPageQuery,
  auditStatsByActionQuery,
  auditStatsByMethodQuery,
  auditStatsTopUsersQuery,
  auditStatsTotalsQuery,
  distinctAuditValuesQuery,
  type AuditLogListQuery,
  type AuditLogStatsScope,
  type AuditLogValueColumn,
  type AuditStatsGroupRow,
  type AuditStatsTotalsRow,
} from '../db/audit-log-queries.ts';
import type { Dialect } from '../db/database-url.ts';
import type { AuditLog } from '../entities/index.ts';
import { percentage } from './dashboard.service.ts';
import { compareCodePoints } from './process-fields.service.ts';

/** How many users `AuditLogStatistics.top_users` lists. */
export const TOP_USERS = 10;

/** A value of a grouped statistic and the number of entries that have it. */
export interface AuditCount {
  value: string;
  count: number;
}

/** Statistics over the audit entries of a period (getAuditLogStats), all computed by the database. */
export interface AuditLogStatistics {
  period_hours: number;
  user_email: string | null;
  total_requests: number;
  /** Entries answered with a status below 400. */
  success_count: number;
  /** Entries answered with a status of 400 or more. */
  error_count: number;
  /** `success_count / total_requests` in percent, two decimals; 0 without entries. */
  success_rate: number;
  /** Mean `duration_ms`, two decimals; 0 without entries. */
  average_duration_ms: number;
  /** Per HTTP method, most first. */
  by_method: AuditCount[];
  /** Per action, most first; entries without an action left out. */
  by_action: AuditCount[];
  /** The `TOP_USERS` users with the most entries, most first; entries without a user left out. */
  top_users: AuditCount[];
}

/** Rounded half away from zero to two decimals (`x * 100` first, so 14.365 rounds as written). */
function twoDecimals(value: number): number {
  return Math.round(Number((value * 100).toPrecision(15))) / 100;
}

/** Most first; equal counts by code point (the same order on every database, whatever its collation). */
function byCountThenValue(a: AuditCount, b: AuditCount): number {
  return b.count - a.count || compareCodePoints(a.value, b.value);
}

function counts(rows: readonly AuditStatsGroupRow[]): AuditCount[] {
  return rows.map((row) => ({ value: String(row.value), count: Number(row.count) })).sort(byCountThenValue);
}

/** Reading the audit trail (admin only); the entries themselves are written by `AuditRecorder`. */
export class AuditLogService {
  readonly #dialect: Dialect;

  constructor(options: { dialect: Dialect }) {
    this.#dialect = options.dialect;
  }

  /** One page of entries matching `query.filters`, newest first, and the number matching in total. */
  async list(em: EntityManager, query: AuditLogListQuery): Promise<{ items: AuditLog[]; total: number }> {
    const sql = em as SqlEntityManager;
    const counted = await auditLogCountQuery(sql, this.#dialect, query.filters).execute<{
      count: number | string;
    }>('get');
    const total = Number(counted.count);
    const items = total === 0 ? [] : await auditLogPageQuery(sql, this.#dialect, query).getResultList();
    return { items, total };
  }

  /**
   * The distinct non-null values of `column` (SELECT DISTINCT in the database), sorted by code point: the
   * database's collation orders them first; the code-point sort gives the same order on every database
   * (as the original's SQLite did), whatever that collation.
   */
  async distinctValues(em: EntityManager, column: AuditLogValueColumn): Promise<string[]> {
    const rows = await distinctAuditValuesQuery(em as SqlEntityManager, column).execute<
      Record<AuditLogValueColumn, string>[]
    >('all', false);
    return rows.map((row) => String(row[column])).sort(compareCodePoints);
  }

  /**
   * Statistics over the entries created in the last `hours` hours before `now` (by `user_email` when
   * given): one aggregate query for the totals and one GROUP BY query each for methods, actions and the
   * top users.
   */
  async statistics(
    em: EntityManager,
    options: { hours: number; user_email?: string; now?: Date },
  ): Promise<AuditLogStatistics> {
    const sql = em as SqlEntityManager;
    const now = options.now ?? new Date();
    const scope: AuditLogStatsScope = {
      since: new Date(now.getTime() - options.hours * 3_600_000),
      ...(options.user_email === undefined ? {} : { user_email: options.user_email }),
    };
    const totals = await auditStatsTotalsQuery(sql, scope).execute<AuditStatsTotalsRow>('get', false);
    const total = Number(totals.total_requests);
    const success = Number(totals.success_count ?? 0);
    const empty = total === 0;
    const grouped = async (query: { execute<T>(method: 'all', mapResults: boolean): Promise<T> }) =>
      empty ? [] : counts(await query.execute<AuditStatsGroupRow[]>('all', false));
    const by_method = await grouped(auditStatsByMethodQuery(sql, scope));
    const by_action = await grouped(auditStatsByActionQuery(sql, scope));
    const top_users = await grouped(auditStatsTopUsersQuery(sql, scope, TOP_USERS));
    const average = totals.average_duration_ms === null ? 0 : Number(totals.average_duration_ms);
    return {
      period_hours: options.hours,
      user_email: options.user_email ?? null,
      total_requests: total,
      success_count: success,
      error_count: Number(totals.error_count ?? 0),
      success_rate: percentage(success, total),
      average_duration_ms: empty ? 0 : Math.max(0, twoDecimals(average)),
      by_method,
      by_action,
      top_users,
    };
  }
}
