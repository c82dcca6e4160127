/**
 * Rate limits (REQUIREMENTS §6, seed 004), per minute, in fixed windows (rate-limit-store.ts):
 * - **per key**: every authenticated request counts against its key — `RATE_LIMIT_PER_KEY_PER_MINUTE`
 *   (1000) for user keys, `RATE_LIMIT_ADMIN_PER_MINUTE` (5000) for admin keys;
 * - **per client IP, without a key**: requests that present no key — `RATE_LIMIT_PER_IP_PER_MINUTE` (100);
 * - **per client IP, failed authentications**: after `RATE_LIMIT_AUTH_FAILURES_PER_MINUTE` (10) answers of
 *   401 in a minute, that IP's requests presenting a key are refused until the window ends (guessing keys).
 * Requests with a valid key are not limited per IP: robots of a municipality share NAT addresses. The
 * client IP is Express's `req.ip`, right behind `TRUST_PROXY`. `/health` and the documentation are exempt.
 *
 * Answers carry `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers:
 * `"key";q=1000;w=60` and `"key";r=998;t=42`); beyond the limit a 429 problem with `Retry-After`.
 */
import type { RequestHandler, Response } from 'express';
import { presentedKey, principalOf } from '../auth/authenticate.ts';
import { TooManyRequestsError } from '../errors/domain-errors.ts';
import type { RateLimitStore } from '../services/rate-limit-store.ts';
import { routedOperation, UNMETERED_OPERATIONS } from './operation-router.ts';

export const RATE_LIMIT_WINDOW_MS = 60_000;

export interface RateLimitPolicy {
  perKey: number;
  perAdminKey: number;
  perIp: number;
  authFailuresPerIp: number;
}

/** Whole seconds until `resetAt`, at least 1 (a `Retry-After` of 0 would invite an immediate retry). */
function secondsUntil(resetAt: number, now: number): number {
  return Math.max(1, Math.ceil((resetAt - now) / 1000));
}

/**
 * Counts the request in `bucket` under the policy named `policy`, sets the RateLimit headers, and refuses
 * it with a 429 beyond `limit`.
 */
async function enforce(
  res: Response,
  store: RateLimitStore,
  policy: string,
  bucket: string,
  limit: number,
  now: number,
): Promise<void> {
  const state = await store.hit(bucket, RATE_LIMIT_WINDOW_MS, now);
  const resetSeconds = secondsUntil(state.resetAt, now);
  res.setHeader('RateLimit-Policy', `"${policy}";q=${limit};w=${RATE_LIMIT_WINDOW_MS / 1000}`);
  res.setHeader('RateLimit', `"${policy}";r=${Math.max(0, limit - state.count)};t=${resetSeconds}`);
  if (state.count > limit) {
    throw new TooManyRequestsError(`Rate limit exceeded; retry in ${resetSeconds} seconds`, resetSeconds);
  }
}

function exempt(res: Response): boolean {
  const operation = routedOperation(res);
  return operation === undefined || UNMETERED_OPERATIONS.has(operation.operationId);
}

/**
 * Before authentication: refuses an IP that failed authentication too often, and counts requests
 * without a key per IP. Also counts this request as a failure of its IP if it ends in 401.
 */
export function limitAnonymous(store: RateLimitStore, policy: RateLimitPolicy): RequestHandler {
  return async (req, res, next) => {
    if (exempt(res)) return next();
    const ip = req.ip ?? 'unknown';
    const now = Date.now();
    if (presentedKey(req) !== undefined) {
      // A presented key that is refused counts as a failed authentication of this address.
      res.once('finish', () => {
        if (res.statusCode === 401) {
          store.hit(`auth-failures:${ip}`, RATE_LIMIT_WINDOW_MS).catch(() => undefined);
        }
      });
      const failures = await store.peek(`auth-failures:${ip}`, RATE_LIMIT_WINDOW_MS, now);
      if (failures.count >= policy.authFailuresPerIp) {
        const retry = secondsUntil(failures.resetAt, now);
        throw new TooManyRequestsError(
          `Too many failed authentications from this address; retry in ${retry} seconds`,
          retry,
        );
      }
      return next();
    }
    await enforce(res, store, 'ip', `ip:${ip}`, policy.perIp, now);
    next();
  };
}

/** After authentication: counts the request against its key. */
export function limitPerKey(store: RateLimitStore, policy: RateLimitPolicy): RequestHandler {
  return async (_req, res, next) => {
    const principal = principalOf(res);
    if (principal === undefined || exempt(res)) return next();
    const limit = principal.role === 'admin' ? policy.perAdminKey : policy.perKey;
    await enforce(res, store, 'key', `key:${principal.keyId}`, limit, Date.now());
    next();
  };
}
