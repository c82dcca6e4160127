import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/** One audited API request. Append-only: never updated or deleted by the API. */
export const AuditLog = defineEntity({
  name: 'AuditLog',
  tableName: 'audit_log',
  properties: {
    id: p.integer().primary().autoincrement(),
    created_at: p
      .datetime()
      .onCreate(() => new Date())
      .index(),
    /** Plain column, deliberately NOT a foreign key: API keys are hard-deleted, their audit trail stays. */
    api_key_id: p.integer().nullable(),
    api_key_name: p.string().length(100).nullable(),
    /** Role of that key at the time of the request (`admin` or `user`); null when no valid key was sent. */
    api_key_role: p.string().length(10).nullable(),
    user_email: p.string().length(255).nullable().index(),
    action: p.string().length(100).nullable().index(),
    method: p.string().length(10),
    path: p.string().length(2048),
    /** The contract's operationId of the route the request matched; null when it matched none. */
    operation_id: p.string().length(100).nullable().index(),
    query_params: p.json<Record<string, unknown>>().nullable(),
    resource_type: p.string().length(50).nullable(),
    resource_id: p.string().length(100).nullable(),
    status_code: p.integer(),
    duration_ms: p.double(),
    ip_address: p.string().length(45).nullable(),
    user_agent: p.string().length(512).nullable(),
    request_id: p.string().length(100).nullable(),
    error_message: p.string().length(2000).nullable(),
    changes: p.json<Record<string, unknown>>().nullable(),
  },
  indexes: [{ name: 'audit_log_api_key_id_created_at_index', properties: ['api_key_id', 'created_at'] }],
});

export type AuditLog = InferEntity<typeof AuditLog>;
