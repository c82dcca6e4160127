import type { Schemas } from '../../contract.ts';
import type { ApiKey } from '../../entities/index.ts';

const iso = (date: Date | null | undefined): string | null => (date ? date.toISOString() : null);

export function toApiKeyInfo(key: ApiKey): Schemas['ApiKeyInfo'] {
  return {
    id: key.id,
    name: key.name,
    role: key.role,
    usage_count: key.usage_count,
    last_used_at: iso(key.last_used_at),
    is_active: key.is_active,
    expires_at: iso(key.expires_at),
  };
}

export function toCurrentApiKey(key: ApiKey): Schemas['CurrentApiKey'] {
  return {
    id: key.id,
    name: key.name,
    description: key.description ?? null,
    role: key.role,
    key_prefix: key.key_prefix,
    is_active: key.is_active,
    usage_count: key.usage_count,
    last_used_at: iso(key.last_used_at),
    expires_at: iso(key.expires_at),
    created_at: key.created_at.toISOString(),
    updated_at: key.updated_at.toISOString(),
  };
}
