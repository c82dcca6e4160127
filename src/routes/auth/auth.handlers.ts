import type { Container } from '../../container.ts';
import type { HandlerMap } from '../../contract.ts';
import { requirePrincipal } from '../../auth/authenticate.ts';
import { ApiKey } from '../../entities/index.ts';
import { UnauthorizedError } from '../../errors/domain-errors.ts';
import { notImplemented } from '../not-implemented.ts';
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
    getApiKeyUsageStats: notImplemented('getApiKeyUsageStats'),
  };
}
