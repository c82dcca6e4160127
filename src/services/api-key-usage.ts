import { raw, type EntityManager } from '@mikro-orm/core';
import { ApiKey } from '../entities/index.ts';
import type { Logger } from '../logger.ts';

interface Pending {
  count: number;
  lastUsedAt: Date;
}

/** Uses of a key counted in this instance but not written to the database yet. */
export interface UnflushedUsage {
  count: number;
  lastUsedAt: Date | null;
}

/**
 * `last_used_at` becomes the later of the stored time and `?`, never an earlier one, so an instance whose
 * flush carries an older time (it flushed later, or retried a failed batch) cannot move it backwards.
 * Portable: SQLite, PostgreSQL and SQL Server. MikroORM inlines the Date parameters as each dialect stores
 * datetimes (`forceUtcTimezone`): UTC text on SQLite (sqlite-utc-text.ts), a UTC timestamp literal on PostgreSQL
 * (timestamptz) and on SQL Server (datetime2).
 */
export const LATEST_LAST_USED_AT =
  'case when last_used_at is null or last_used_at < ? then ? else last_used_at end';

/**
 * Counts API key usage in memory and writes it in batches: one `usage_count = usage_count + n` per key
 * per flush. The original wrote `usage_count`/`last_used_at` on every request, which serialised
 * concurrent requests on the key's row and deadlocked under load. Increments are additive and
 * `last_used_at` only moves forward, so several instances can flush into one database; a crash loses at
 * most one interval of counts.
 *
 * A flush never throws: whatever could not be written (one key's update failed, or no statement could run
 * at all) is logged and kept for the next flush, and the next flush runs as usual.
 */
export class ApiKeyUsageRecorder {
  readonly #pending = new Map<number, Pending>();
  readonly #em: () => EntityManager;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(options: { em: () => EntityManager; logger: Logger; flushIntervalMs: number }) {
    this.#em = options.em;
    this.#logger = options.logger;
    if (options.flushIntervalMs > 0) {
      this.#timer = setInterval(() => {
        // flush() does not reject; this catch is the last guard against an unhandled rejection.
        this.flush().catch((error: unknown) => this.#logFailure(error, [...this.#pending.keys()]));
      }, options.flushIntervalMs);
      this.#timer.unref();
    }
  }

  /** Notes one authenticated request by `keyId` (no I/O). */
  record(keyId: number, at = new Date()): void {
    this.#add(keyId, 1, at);
  }

  #add(keyId: number, count: number, at: Date): void {
    const pending = this.#pending.get(keyId);
    if (pending === undefined) this.#pending.set(keyId, { count, lastUsedAt: at });
    else {
      pending.count += count;
      if (at > pending.lastUsedAt) pending.lastUsedAt = at;
    }
  }

  /**
   * Writes the counts gathered so far; flushes never overlap. Resolves when this flush is over, also when
   * it failed: failed writes are logged and kept for the next flush (see `unflushed`).
   */
  flush(): Promise<void> {
    const flush = this.#flushing.then(() => this.#write());
    // The chain must survive anything: a rejected link would stop every later flush.
    this.#flushing = flush.catch(() => undefined);
    return this.#flushing;
  }

  /** Uses of `keyId` counted here but not written yet (so a key's own view of its usage is current). */
  unflushed(keyId: number): UnflushedUsage {
    const pending = this.#pending.get(keyId);
    return { count: pending?.count ?? 0, lastUsedAt: pending?.lastUsedAt ?? null };
  }

  /** Stops the timer and writes what is left (graceful shutdown); what still cannot be written is logged. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.flush();
    if (this.#pending.size > 0) {
      this.#logger.error('API key usage could not be written before shutdown and is lost', {
        usage: Object.fromEntries(
          [...this.#pending].map(([keyId, usage]) => [
            keyId,
            { count: usage.count, last_used_at: usage.lastUsedAt },
          ]),
        ),
      });
    }
  }

  async #write(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = [...this.#pending.entries()];
    this.#pending.clear();
    // Whatever is not confirmed written goes back into #pending (merged with uses counted meanwhile).
    const failed: number[] = [];
    let firstError: unknown;
    const keep = (keyId: number, usage: Pending, error: unknown) => {
      firstError ??= error;
      failed.push(keyId);
      this.#add(keyId, usage.count, usage.lastUsedAt);
    };
    try {
      const em = this.#em().fork();
      for (const [keyId, usage] of batch) {
        try {
          // A key deleted meanwhile simply matches no row.
          await em.nativeUpdate(
            ApiKey,
            { id: keyId },
            {
              usage_count: raw('usage_count + ?', [usage.count]),
              last_used_at: raw(LATEST_LAST_USED_AT, [usage.lastUsedAt, usage.lastUsedAt]),
            },
          );
        } catch (error) {
          keep(keyId, usage, error);
        }
      }
    } catch (error) {
      // Only getting an EntityManager can fail here (each statement's error is caught above): no
      // statement ran, so the whole batch waits for the next flush.
      for (const [keyId, usage] of batch) keep(keyId, usage, error);
    }
    if (failed.length > 0) this.#logFailure(firstError, failed);
  }

  #logFailure(error: unknown, keyIds: number[]): void {
    this.#logger.error('could not record API key usage; retrying at the next flush', {
      api_key_ids: keyIds,
      error: String(error),
    });
  }
}
