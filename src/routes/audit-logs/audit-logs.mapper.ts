import type { Schemas } from '../../contract.ts';
import type { AuditLog } from '../../entities/index.ts';
import type { AuditLogStatistics } from '../../services/audit-log.service.ts';

/** A JSON column's value when it is an object (the contract's `object | null`); anything else is null. */
function jsonObject(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

/**
 * `resource_id` is stored as text (the recorder writes the decimal id of a path parameter or a created
 * item); the contract shows it as a positive integer, so any other text is shown as null.
 */
function resourceId(value: string | null | undefined): number | null {
  if (value == null || !/^[1-9]\d{0,15}$/.test(value)) return null;
  const id = Number(value);
  return Number.isSafeInteger(id) ? id : null;
}

/** One audit entry as the contract shows it. */
export function toAuditLog(entry: AuditLog): Schemas['AuditLog'] {
  return {
    id: entry.id,
    created_at: entry.created_at.toISOString(),
    api_key_id: entry.api_key_id ?? null,
    api_key_name: entry.api_key_name ?? null,
    // Null in entries recorded before the role was kept, and in those adopted from the original service.
    role: entry.api_key_role === 'admin' || entry.api_key_role === 'user' ? entry.api_key_role : null,
    user_email: entry.user_email ?? null,
    action: entry.action ?? null,
    method: entry.method,
    path: entry.path,
    operation_id: entry.operation_id ?? null,
    query_params: jsonObject(entry.query_params),
    resource_type: entry.resource_type ?? null,
    resource_id: resourceId(entry.resource_id),
    status_code: entry.status_code,
    duration_ms: Number(entry.duration_ms),
    ip_address: entry.ip_address ?? null,
    user_agent: entry.user_agent ?? null,
    // Null in entries adopted from the original service, which recorded no request id.
    request_id: entry.request_id ?? null,
    error_message: entry.error_message ?? null,
    changes: jsonObject(entry.changes),
  };
}

/**
 * Statistics as the contract shows them: this API's members and the original service's
 * (`successful_requests`, `error_requests`, `requests_by_method`, `requests_by_action`, `user_filter`,
 * `email` in `top_users`) with the same values. Objects are built with `Object.fromEntries`, which keeps
 * any key as an own member (an action named `__proto__` included).
 */
export function toAuditLogStats(stats: AuditLogStatistics): Schemas['AuditLogStats'] {
  const byMethod = Object.fromEntries(stats.by_method.map(({ value, count }) => [value, count]));
  return {
    period_hours: stats.period_hours,
    user_filter: stats.user_email,
    total_requests: stats.total_requests,
    success_count: stats.success_count,
    successful_requests: stats.success_count,
    error_count: stats.error_count,
    error_requests: stats.error_count,
    success_rate: stats.success_rate,
    average_duration_ms: stats.average_duration_ms,
    by_method: byMethod,
    requests_by_method: { ...byMethod },
    by_action: stats.by_action.map(({ value, count }) => ({ action: value, count })),
    requests_by_action: Object.fromEntries(stats.by_action.map(({ value, count }) => [value, count])),
    top_users: stats.top_users.map(({ value, count }) => ({ user_email: value, email: value, count })),
  };
}
