import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { timestampProperties } from './common.ts';

export const API_KEY_ROLES = ['admin', 'user'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

/** An API key. NOT soft-deletable: deleting a key removes the row (audit logs keep id + name, no FK). */
export const ApiKey = defineEntity({
  name: 'ApiKey',
  tableName: 'api_key',
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(100),
    description: p.string().length(500).nullable(),
    role: p.string().length(10).$type<ApiKeyRole>(),
    /** First characters of the key, used to find the candidate row before verifying the hash. */
    key_prefix: p.string().length(16).index(),
    /** argon2id PHC string of the full key. */
    key_hash: p.string().length(255),
    is_active: p.boolean().default(true),
    expires_at: p.datetime().nullable(),
    usage_count: p.integer().default(0),
    last_used_at: p.datetime().nullable(),
    ...timestampProperties(),
  },
});

export type ApiKey = InferEntity<typeof ApiKey>;
