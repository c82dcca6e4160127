import type { EntityManager } from '@mikro-orm/core';
import { ApiKey } from '../entities/index.ts';
import type { ApiKeyService } from './api-key.service.ts';

/**
 * On the first start of an empty database there is no key to call the API with: create an admin key and
 * return its plaintext (the caller prints it once). Returns undefined when any key already exists.
 */
export async function createFirstAdminKey(
  em: EntityManager,
  apiKeys: ApiKeyService,
): Promise<string | undefined> {
  if ((await em.count(ApiKey, {})) > 0) return undefined;
  const { plaintext } = await apiKeys.create(em, {
    name: 'Bootstrap admin key',
    description: 'Created automatically on the first start of an empty database',
    role: 'admin',
  });
  return plaintext;
}
