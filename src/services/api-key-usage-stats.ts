/**
 * `GET /auth/usage-stats`: the calling key's usage. The lifetime count and last use come from the key's
 * row plus the uses not flushed yet (api-key-usage.ts: counted in batches, never per request); the
 * windowed figures come from the audit trail, counted and grouped in the database.
 */
import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { countsPerValue } from '../db/audit-log-queries.ts';
import { AuditLog } from '../entities/index.ts';

const HOUR_MS = 3_600_000;
/** At most this many paths in `top_endpoints` (the contract's maxItems). */
export const TOP_ENDPOINTS = 10;

export interface WindowedUsage {
  daily: number;
  weekly: number;
  topEndpoints: { endpoint: string; count: number }[];
}

/** Requests of key `keyId` in the audit trail: the last 24 hours, the last 7 days, and its top paths. */
export async function windowedUsage(
  em: EntityManager,
  keyId: number,
  now = new Date(),
): Promise<WindowedUsage> {
  const dayAgo = new Date(now.getTime() - 24 * HOUR_MS);
  const weekAgo = new Date(now.getTime() - 7 * 24 * HOUR_MS);
  const sql = em as SqlEntityManager;
  const [daily, weekly, top] = await Promise.all([
    em.count(AuditLog, { api_key_id: keyId, created_at: { $gte: dayAgo } }),
    em.count(AuditLog, { api_key_id: keyId, created_at: { $gte: weekAgo } }),
    topEndpointsQuery(sql, keyId, weekAgo).execute<{ value: string; count: number | string }[]>('all', false),
  ]);
  return {
    daily,
    weekly,
    topEndpoints: top.map((row) => ({ endpoint: row.value, count: Number(row.count) })),
  };
}

/** The key's most-called paths since `since`, most calls first, then by path; at most TOP_ENDPOINTS. */
export function topEndpointsQuery(em: SqlEntityManager, keyId: number, since: Date) {
  const entries = em
    .createQueryBuilder(AuditLog, 'a')
    .where({ api_key_id: keyId, created_at: { $gte: since } });
  return countsPerValue(entries, 'path', TOP_ENDPOINTS);
}
