import type { Schemas } from '../../contract.ts';
import type { ApiKey } from '../../entities/index.ts';
import type { UnflushedUsage } from '../../services/api-key-usage.ts';
import { iso } from '../../util/timestamps.ts';
import { currentUsage, toApiKey } from '../api-keys/api-keys.mapper.ts';

export function toApiKeyInfo(key: ApiKey, unflushed: UnflushedUsage): Schemas['ApiKeyInfo'] {
  return {
    id: key.id,
    name: key.name,
    role: key.role,
    ...currentUsage(key, unflushed),
    is_active: key.is_active,
    expires_at: iso(key.expires_at),
  };
}

export function toCurrentApiKey(key: ApiKey, unflushed: UnflushedUsage): Schemas['CurrentApiKey'] {
  return toApiKey(key, unflushed);
}
