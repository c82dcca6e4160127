import type { Request, RequestHandler } from 'express';
import type { EntityManager } from '@mikro-orm/core';
import { matchOperation, type OperationRoute } from '../contract.ts';
import { ForbiddenError, UnauthorizedError } from '../errors/domain-errors.ts';
import type { Logger } from '../logger.ts';
import type { ApiKeyService, Principal } from '../services/api-key.service.ts';

/** The key a request carries: `X-API-Key`, or `Authorization: Bearer <key>` as older clients send. */
export function presentedKey(req: Request): string | undefined {
  const header = req.get('x-api-key')?.trim();
  if (header) return header;
  const authorization = req.get('authorization');
  const match = authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return match?.[1];
}

export function principalOf(res: { locals: Record<string, unknown> }): Principal | undefined {
  return res.locals['principal'] as Principal | undefined;
}

/** The principal of a request that passed authentication (an /api/v1 operation); 401 otherwise. */
export function requirePrincipal(res: { locals: Record<string, unknown> }): Principal {
  const principal = principalOf(res);
  if (principal === undefined) throw new UnauthorizedError();
  return principal;
}

/**
 * Authentication and role check, before request validation (so a caller without a valid key learns
 * nothing about the contract). Every `/api/v1` path needs a valid key, as in the original; the role an
 * operation demands comes from the spec's `x-required-role`. Operations marked `none` (`/`, `/health`)
 * take a key when one is sent, to show more.
 */
export function authenticate(deps: {
  routes: readonly OperationRoute[];
  apiKeys: ApiKeyService;
  recordUsage: (keyId: number) => void;
  em: () => EntityManager;
  logger: Logger;
}): RequestHandler {
  return async (req, res, next) => {
    const operation = matchOperation(deps.routes, req.method, req.path);
    const needsKey =
      req.path.startsWith('/api/') || (operation !== undefined && operation.requiredRole !== 'none');
    const key = presentedKey(req);
    if (key === undefined) {
      if (needsKey) {
        deps.logger.warn('authentication failed: no key', {
          ip: req.ip,
          path: req.path,
          request_id: res.locals['requestId'],
        });
        throw new UnauthorizedError('Missing API key: send it in the X-API-Key header');
      }
      next();
      return;
    }
    const principal = await deps.apiKeys.authenticate(deps.em(), key);
    if (principal === undefined) {
      if (!needsKey) {
        next();
        return;
      }
      // Never log the key itself; its first characters are enough to tell keys apart.
      deps.logger.warn('authentication failed: invalid key', {
        ip: req.ip,
        path: req.path,
        key_prefix: key.slice(0, 8),
        request_id: res.locals['requestId'],
      });
      throw new UnauthorizedError();
    }
    res.locals['principal'] = principal;
    deps.recordUsage(principal.keyId);
    if (operation?.requiredRole === 'admin' && principal.role !== 'admin') {
      throw new ForbiddenError();
    }
    next();
  };
}
