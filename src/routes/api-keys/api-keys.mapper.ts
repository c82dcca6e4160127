import type { Schemas } from '../../contract.ts';
import type { ApiKey } from '../../entities/index.ts';
import type { UnflushedUsage } from '../../services/api-key-usage.ts';
import { iso } from '../../util/timestamps.ts';

/** Stored usage plus the uses this instance has counted but not written yet. */
export function currentUsage(
  key: ApiKey,
  unflushed: UnflushedUsage,
): { usage_count: number; last_used_at: string | null } {
  const uses = [key.last_used_at, unflushed.lastUsedAt].filter((date): date is Date => date instanceof Date);
  const last = uses.length === 0 ? null : new Date(Math.max(...uses.map((date) => date.getTime())));
  return { usage_count: key.usage_count + unflushed.count, last_used_at: iso(last) };
}

/** An API key as the contract shows it: never the key itself, never its hash. */
export function toApiKey(key: ApiKey, unflushed: UnflushedUsage): Schemas['ApiKey'] {
  return {
    id: key.id,
    name: key.name,
    description: key.description ?? null,
    role: key.role,
    key_prefix: key.key_prefix,
    is_active: key.is_active,
    expires_at: iso(key.expires_at),
    ...currentUsage(key, unflushed),
    created_at: key.created_at.toISOString(),
    updated_at: key.updated_at.toISOString(),
  };
}

/** The one response that carries the plaintext key. */
export function toApiKeyCreated(key: ApiKey, plaintext: string): Schemas['ApiKeyCreated'] {
  return { ...toApiKey(key, { count: 0, lastUsedAt: null }), key: plaintext };
}
