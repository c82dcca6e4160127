/**
 * Fixed-window request counters for rate limiting (src/middleware/rate-limit.ts): one counter per bucket
 * (`key:5`, `ip:10.0.0.7`, …) and window (the minute, by default). Two stores:
 * - `MemoryRateLimitStore` (default): in this process; several instances each count their own requests.
 * - `DatabaseRateLimitStore` (`RATE_LIMIT_STORE=database`): a row per bucket and window in the shared
 *   database (table `rate_limit_window`), so every instance counts against one limit. It costs two short
 *   statements per counted request, which is why it is opt-in.
 */
import { raw, UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { RateLimitWindow } from '../entities/index.ts';

/** The state of one bucket after counting a request. */
export interface WindowCount {
  /** Requests counted in the current window, this one included. */
  count: number;
  /** When the current window ends (ms since the epoch). */
  resetAt: number;
}

export interface RateLimitStore {
  /** Counts one request of `bucket` in the window of length `windowMs` that holds `now`. */
  hit(bucket: string, windowMs: number, now?: number): Promise<WindowCount>;
  /** The count of `bucket` in the current window without counting (0 when none). */
  peek(bucket: string, windowMs: number, now?: number): Promise<WindowCount>;
  close(): Promise<void>;
}

function windowOf(windowMs: number, now: number): { start: number; resetAt: number } {
  const start = Math.floor(now / windowMs) * windowMs;
  return { start, resetAt: start + windowMs };
}

/** Counters in this process, at most `maxBuckets` (beyond, windows that ended are dropped first). */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly #windows = new Map<string, { start: number; count: number }>();
  readonly #maxBuckets: number;

  constructor(maxBuckets = 100_000) {
    this.#maxBuckets = maxBuckets;
  }

  hit(bucket: string, windowMs: number, now = Date.now()): Promise<WindowCount> {
    const { start, resetAt } = windowOf(windowMs, now);
    const current = this.#windows.get(bucket);
    if (current === undefined || current.start !== start) {
      if (this.#windows.size >= this.#maxBuckets) this.#evict(start);
      this.#windows.set(bucket, { start, count: 1 });
      return Promise.resolve({ count: 1, resetAt });
    }
    current.count += 1;
    return Promise.resolve({ count: current.count, resetAt });
  }

  peek(bucket: string, windowMs: number, now = Date.now()): Promise<WindowCount> {
    const { start, resetAt } = windowOf(windowMs, now);
    const current = this.#windows.get(bucket);
    return Promise.resolve({ count: current?.start === start ? current.count : 0, resetAt });
  }

  /** Drops the windows that ended; if none had, the oldest bucket (a flood of one-off IPs). */
  #evict(start: number): void {
    for (const [bucket, window] of this.#windows) if (window.start < start) this.#windows.delete(bucket);
    if (this.#windows.size >= this.#maxBuckets) {
      const oldest = this.#windows.keys().next();
      if (oldest.done !== true) this.#windows.delete(oldest.value);
    }
  }

  close(): Promise<void> {
    this.#windows.clear();
    return Promise.resolve();
  }
}

/**
 * Counters in the database: increment the window's row, then read it (row counts are not used: Babelfish
 * reports them wrongly); the first request of a window inserts the row, and of two first requests the
 * primary key lets one insert and the other increment. Concurrent requests at the limit may both read a
 * count past it and both be refused: the store may refuse one request too many, never allow one.
 * Windows that ended are deleted now and then.
 */
export class DatabaseRateLimitStore implements RateLimitStore {
  readonly #em: () => EntityManager;
  #lastCleanup = 0;

  constructor(em: () => EntityManager) {
    this.#em = em;
  }

  async hit(bucket: string, windowMs: number, now = Date.now()): Promise<WindowCount> {
    const { start, resetAt } = windowOf(windowMs, now);
    const em = this.#em();
    const where = { bucket: bucket.slice(0, 200), window_start: new Date(start) };
    for (let attempt = 0; attempt < 3; attempt++) {
      await (em as SqlEntityManager)
        .createQueryBuilder(RateLimitWindow)
        .update({ hits: raw('hits + 1') })
        .where(where)
        .execute('run');
      const row = await em.findOne(RateLimitWindow, where, { refresh: true, disableIdentityMap: true });
      if (row !== null) {
        if (now - this.#lastCleanup > windowMs) await this.#cleanup(em, start - windowMs, now);
        return { count: row.hits, resetAt };
      }
      try {
        await em.insert(RateLimitWindow, { ...where, hits: 1 });
        return { count: 1, resetAt };
      } catch (error) {
        if (!(error instanceof UniqueConstraintViolationException)) throw error;
        // Another request inserted the row first: count on it.
      }
    }
    throw new Error('rate limit window could not be counted');
  }

  async peek(bucket: string, windowMs: number, now = Date.now()): Promise<WindowCount> {
    const { start, resetAt } = windowOf(windowMs, now);
    const row = await this.#em().findOne(
      RateLimitWindow,
      { bucket: bucket.slice(0, 200), window_start: new Date(start) },
      { disableIdentityMap: true },
    );
    return { count: row?.hits ?? 0, resetAt };
  }

  async #cleanup(em: EntityManager, before: number, now: number): Promise<void> {
    this.#lastCleanup = now;
    await em.nativeDelete(RateLimitWindow, { window_start: { $lt: new Date(before) } });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
