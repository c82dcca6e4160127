/**
 * Writes audit entries (table `audit_log`) in batches, off the request path: a request only appends its
 * entry to a queue in memory; every `AUDIT_FLUSH_INTERVAL_MS` (and on shutdown) the queue is inserted with
 * multi-row INSERTs of at most 100 rows (16 values a row stays far under SQL Server's 2,100 parameters).
 *
 * What can be lost: nothing on a clean shutdown (`close()` writes the queue); on a crash, the entries of
 * the last interval. When the database refuses a batch, the entries stay queued and are tried again next
 * interval; the queue is bounded (`AUDIT_MAX_QUEUED`), beyond it the oldest entries are dropped and the
 * number dropped is logged, so an unreachable database cannot exhaust memory.
 */
import type { EntityManager, RequiredEntityData } from '@mikro-orm/core';
import { AuditLog } from '../entities/index.ts';
import type { Logger } from '../logger.ts';

/** One audit entry: the `audit_log` row it becomes, without the id the database gives it. */
export type AuditEntry = Omit<RequiredEntityData<AuditLog>, 'id'>;

const ROWS_PER_INSERT = 100;

export class AuditRecorder {
  readonly #em: () => EntityManager;
  readonly #logger: Logger;
  readonly #maxQueued: number;
  #queue: AuditEntry[] = [];
  #dropped = 0;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();

  constructor(options: {
    em: () => EntityManager;
    logger: Logger;
    flushIntervalMs: number;
    maxQueued: number;
  }) {
    this.#em = options.em;
    this.#logger = options.logger;
    this.#maxQueued = options.maxQueued;
    if (options.flushIntervalMs > 0) {
      this.#timer = setInterval(() => void this.flush(), options.flushIntervalMs);
      this.#timer.unref();
    }
  }

  /** Queues one entry (no I/O). */
  record(entry: AuditEntry): void {
    this.#queue.push(entry);
    if (this.#queue.length > this.#maxQueued) {
      this.#dropped += this.#queue.length - this.#maxQueued;
      this.#queue.splice(0, this.#queue.length - this.#maxQueued);
    }
  }

  /** Entries queued and not yet written. */
  get pending(): number {
    return this.#queue.length;
  }

  /**
   * Writes what is queued; flushes never overlap. Resolves when this flush is over, also when it failed:
   * a failed batch is logged and stays queued for the next flush.
   */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#write()).catch(() => undefined);
    return this.#flushing;
  }

  /** Stops the timer and writes everything queued (a clean shutdown loses nothing). */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }

  async #write(): Promise<void> {
    if (this.#dropped > 0) {
      this.#logger.error('audit entries dropped: the queue was full while the database refused them', {
        dropped: this.#dropped,
      });
      this.#dropped = 0;
    }
    while (this.#queue.length > 0) {
      const batch = this.#queue.slice(0, ROWS_PER_INSERT);
      try {
        await this.#em().insertMany(AuditLog, batch);
      } catch (error) {
        // Never the entries or the statement: the message of a driver error can hold the SQL.
        this.#logger.error('audit entries could not be written; they are kept and tried again', {
          queued: this.#queue.length,
          error: error instanceof Error ? error.name : 'unknown',
        });
        return;
      }
      this.#queue.splice(0, batch.length);
    }
  }
}
