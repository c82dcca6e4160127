import type { Container } from '../../container.ts';
import type { HandlerMap } from '../../contract.ts';
import { notImplemented } from '../not-implemented.ts';

type ApiKeysOperation =
  | 'createApiKey'
  | 'listApiKeys'
  | 'getApiKey'
  | 'updateApiKey'
  | 'deleteApiKey'
  | 'toggleApiKey'
  | 'listApiKeysAdminAlias';

/** Handlers of the `api-keys` tag. Operations still answering 501 belong to a later issue. */
export function apiKeysHandlers(_container: Container): Pick<HandlerMap, ApiKeysOperation> {
  return {
    createApiKey: notImplemented('createApiKey'),
    listApiKeys: notImplemented('listApiKeys'),
    getApiKey: notImplemented('getApiKey'),
    updateApiKey: notImplemented('updateApiKey'),
    deleteApiKey: notImplemented('deleteApiKey'),
    toggleApiKey: notImplemented('toggleApiKey'),
    listApiKeysAdminAlias: notImplemented('listApiKeysAdminAlias'),
  };
}
