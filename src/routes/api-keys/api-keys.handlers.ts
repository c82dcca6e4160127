import { requirePrincipal } from '../../auth/authenticate.ts';
import type { Container } from '../../container.ts';
import type { Handler, HandlerMap } from '../../contract.ts';
import type { ApiKey } from '../../entities/index.ts';
import { parseTimestamp } from '../../util/timestamps.ts';
import { pageOffset, pageRequest, sendPageHeaders } from '../pagination.ts';
import { toApiKey, toApiKeyCreated } from './api-keys.mapper.ts';

type ApiKeysOperation =
  | 'createApiKey'
  | 'listApiKeys'
  | 'getApiKey'
  | 'updateApiKey'
  | 'deleteApiKey'
  | 'toggleApiKey'
  | 'listApiKeysAdminAlias';

/** A request timestamp as a Date (the validator has checked it parses); null stays null. */
const toDate = (value: string | null | undefined): Date | null | undefined =>
  value === undefined || value === null ? value : (parseTimestamp(value) ?? null);

/** API key management (admin). */
export function apiKeysHandlers(container: Container): Pick<HandlerMap, ApiKeysOperation> {
  const { apiKeys, apiKeyUsage } = container;
  const callerId = (res: Parameters<typeof requirePrincipal>[0]) => requirePrincipal(res).keyId;
  const show = (key: ApiKey) => toApiKey(key, apiKeyUsage.unflushed(key.id));
  const listApiKeys: Handler<'listApiKeys'> = async (req, res) => {
    const page = pageRequest(req.query);
    const { items, total } = await apiKeys.list(container.em(), pageOffset(page), page.size);
    const meta = sendPageHeaders(req, res, page, total);
    res.json({ items: items.map(show), ...meta });
  };
  return {
    createApiKey: async (req, res) => {
      const { name, description, role, is_active, expires_at } = req.body;
      const { apiKey, plaintext } = await apiKeys.create(container.em(), {
        name,
        description: description ?? null,
        role: role ?? 'user',
        is_active: is_active ?? true,
        expires_at: toDate(expires_at) ?? null,
      });
      res.status(201).json(toApiKeyCreated(apiKey, plaintext));
    },
    listApiKeys,
    listApiKeysAdminAlias: (req, res) => listApiKeys(req, res),
    getApiKey: async (req, res) => {
      const key = await apiKeys.get(container.em(), req.params.key_id);
      res.json(show(key));
    },
    updateApiKey: async (req, res) => {
      const { expires_at, ...rest } = req.body;
      const key = await apiKeys.update(
        container.em(),
        req.params.key_id,
        { ...rest, ...(expires_at === undefined ? {} : { expires_at: toDate(expires_at) ?? null }) },
        callerId(res),
      );
      res.json(show(key));
    },
    toggleApiKey: async (req, res) => {
      const key = await apiKeys.toggle(container.em(), req.params.key_id, callerId(res));
      res.json(show(key));
    },
    deleteApiKey: async (req, res) => {
      await apiKeys.remove(container.em(), req.params.key_id, callerId(res));
      res.json({ message: `API key ${req.params.key_id} deleted` });
    },
  };
}
