import type { Request, RequestHandler } from 'express';
import type { EntityManager } from '@mikro-orm/core';
import type { RequiredRole } from '../contract.ts';
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
 * The role the matched operation demands: `x-required-role` of the operation object that the validator
 * holds for this request (`req.openapi.schema`, set by the operation router from the one matcher). A
 * request without it, or with a value we do not know, is refused: no operation, no access.
 */
function requiredRoleOf(req: Request): RequiredRole {
  const schema = (req as Request & { openapi?: { schema?: Record<string, unknown> } }).openapi?.schema;
  const role = schema?.['x-required-role'];
  if (role === 'admin' || role === 'any' || role === 'none') return role;
  throw new Error(
    `refusing ${req.method} ${req.path}: no operation with a known x-required-role was matched`,
  );
}

/**
 * Authentication and role check, after routing and before the body is read or validated (so a caller
 * without a valid key learns nothing about the contract and cannot make the server parse a body).
 * Operations marked `none` (`/`, `/health`) take a key when one is sent, to show more; every other
 * operation needs a valid key, and `admin` operations an admin key.
 */
export function authenticate(deps: {
  apiKeys: ApiKeyService;
  recordUsage: (keyId: number) => void;
  em: () => EntityManager;
  logger: Logger;
}): RequestHandler {
  return async (req, res, next) => {
    const requiredRole = requiredRoleOf(req);
    const needsKey = requiredRole !== 'none';
    const key = presentedKey(req);
    if (key === undefined) {
      if (needsKey) {
        deps.logger.warn('authentication failed: no key', {
          ip: req.ip,
          path: req.path,
        });
        throw new UnauthorizedError('Missing API key: send it in the X-API-Key header');
      }
      next();
      return;
    }
    const principal = await deps.apiKeys.authenticate(deps.em, key);
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
      });
      throw new UnauthorizedError();
    }
    res.locals['principal'] = principal;
    deps.recordUsage(principal.keyId);
    if (requiredRole === 'admin' && principal.role !== 'admin') {
      throw new ForbiddenError();
    }
    next();
  };
}
