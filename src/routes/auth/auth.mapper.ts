import type { Schemas } from '../../contract.ts';
import type { ApiKey } from '../../entities/index.ts';

const iso = (date: Date | null | undefined): string | null => (date ? date.toISOString() : null);

/** Uses counted in this instance but not written to the database yet. */
export interface UnflushedUsage {
  count: number;
  lastUsedAt: Date | null;
}

const latest = (a: Date | null | undefined, b: Date | null): Date | null =>
  a && b ? (a > b ? a : b) : (a ?? b);

export function toApiKeyInfo(key: ApiKey, unflushed: UnflushedUsage): Schemas['ApiKeyInfo'] {
  return {
    id: key.id,
    name: key.name,
    role: key.role,
    usage_count: key.usage_count + unflushed.count,
    last_used_at: iso(latest(key.last_used_at, unflushed.lastUsedAt)),
    is_active: key.is_active,
    expires_at: iso(key.expires_at),
  };
}

export function toCurrentApiKey(key: ApiKey, unflushed: UnflushedUsage): Schemas['CurrentApiKey'] {
  return {
    id: key.id,
    name: key.name,
    description: key.description ?? null,
    role: key.role,
    key_prefix: key.key_prefix,
    is_active: key.is_active,
    usage_count: key.usage_count + unflushed.count,
    last_used_at: iso(latest(key.last_used_at, unflushed.lastUsedAt)),
    expires_at: iso(key.expires_at),
    created_at: key.created_at.toISOString(),
    updated_at: key.updated_at.toISOString(),
  };
}
