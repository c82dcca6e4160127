import type { Container } from '../../container.ts';
import type { HandlerMap } from '../../contract.ts';
import { requirePrincipal } from '../../auth/authenticate.ts';
import { ApiKey } from '../../entities/index.ts';
import { UnauthorizedError } from '../../errors/domain-errors.ts';
import { windowedUsage } from '../../services/api-key-usage-stats.ts';
import { currentUsage } from '../api-keys/api-keys.mapper.ts';
import { toApiKeyInfo, toCurrentApiKey } from './auth.mapper.ts';

type AuthOperation = 'verifyApiKey' | 'getCurrentApiKey' | 'getApiKeyUsageStats';

/** Information about the calling key (any role). */
export function authHandlers(container: Container): Pick<HandlerMap, AuthOperation> {
  const callingKey = async (res: Parameters<typeof requirePrincipal>[0]): Promise<ApiKey> => {
    const key = await container.em().findOne(ApiKey, { id: requirePrincipal(res).keyId });
    // Deleted between verification and this read: the key is no longer valid.
    if (key === null) throw new UnauthorizedError();
    return key;
  };
  return {
    verifyApiKey: async (_req, res) => {
      const key = await callingKey(res);
      const unflushed = container.apiKeyUsage.unflushed(key.id);
      res.json({ status: 'valid', message: 'API key is valid', key_info: toApiKeyInfo(key, unflushed) });
    },
    getCurrentApiKey: async (_req, res) => {
      const key = await callingKey(res);
      res.json(toCurrentApiKey(key, container.apiKeyUsage.unflushed(key.id)));
    },
    getApiKeyUsageStats: async (_req, res) => {
      const key = await callingKey(res);
      const usage = currentUsage(key, container.apiKeyUsage.unflushed(key.id));
      const windowed = await windowedUsage(container.em(), key.id);
      res.json({
        key_id: key.id,
        usage_count: usage.usage_count,
        last_used_at: usage.last_used_at,
        daily_usage: windowed.daily,
        weekly_usage: windowed.weekly,
        top_endpoints: windowed.topEndpoints,
      });
    },
  };
}
