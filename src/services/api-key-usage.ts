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
 * Counts API key usage in memory and writes it in batches: one `usage_count = usage_count + n` per key
 * per flush. The original wrote `usage_count`/`last_used_at` on every request, which serialised
 * concurrent requests on the key's row and deadlocked under load. Increments are additive, so several
 * instances can flush into one database; a crash loses at most one interval of counts.
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
      this.#timer = setInterval(() => void this.flush(), options.flushIntervalMs);
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

  /** Writes the counts gathered so far; flushes never overlap. Failed writes are kept for the next one. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#write());
    return this.#flushing;
  }

  /** Uses of `keyId` counted here but not written yet (so a key's own view of its usage is current). */
  unflushed(keyId: number): UnflushedUsage {
    const pending = this.#pending.get(keyId);
    return { count: pending?.count ?? 0, lastUsedAt: pending?.lastUsedAt ?? null };
  }

  /** Stops the timer and writes what is left (graceful shutdown). */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }

  async #write(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = [...this.#pending.entries()];
    this.#pending.clear();
    const em = this.#em().fork();
    for (const [keyId, usage] of batch) {
      try {
        // A key deleted meanwhile simply matches no row.
        await em.nativeUpdate(
          ApiKey,
          { id: keyId },
          { usage_count: raw('usage_count + ?', [usage.count]), last_used_at: usage.lastUsedAt },
        );
      } catch (error) {
        this.#logger.error('could not record API key usage; retrying at the next flush', {
          api_key_id: keyId,
          error: String(error),
        });
        this.#add(keyId, usage.count, usage.lastUsedAt);
      }
    }
  }
}
