import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/**
 * Requests of one rate-limit bucket (`key:5`, `ip:10.0.0.7`, …) in one window, shared by every instance
 * when `RATE_LIMIT_STORE=database` (src/services/rate-limit-store.ts). Windows that ended are deleted.
 */
export const RateLimitWindow = defineEntity({
  name: 'RateLimitWindow',
  tableName: 'rate_limit_window',
  properties: {
    bucket: p.string().length(200).primary(),
    window_start: p.datetime().primary().index(),
    hits: p.integer(),
  },
});

export type RateLimitWindow = InferEntity<typeof RateLimitWindow>;
