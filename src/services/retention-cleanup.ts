/**
 * The scheduled retention cleanup (REQUIREMENTS §4): every `RETENTION_CLEANUP_INTERVAL` it neutralises the
 * runs that are due, in batches, as `POST /admin/cleanup/neutralize?dry_run=false` does on demand.
 *
 * Several instances may run it against one database: a tick works only while its instance holds the
 * `retention-cleanup` lease (job-lease.ts), renewed before every batch, so one instance works a batch at a
 * time; an instance that crashed mid-batch loses the lease when it expires. Each run is also neutralised
 * under its own row lock, checked after taking it (LifecycleService), so even a holder that overran its
 * lease cannot neutralise a run twice.
 */
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import type { Logger } from '../logger.ts';
import type { AuditRecorder } from './audit-recorder.ts';
import type { JobLeases } from './job-lease.ts';
import type { LifecycleService } from './lifecycle.service.ts';

export const RETENTION_CLEANUP_LEASE = 'retention-cleanup';

/** What one tick did. `acquired` false: another instance held the lease, nothing was done. */
export interface CleanupTick {
  acquired: boolean;
  batches: number;
  neutralized: number[];
  failed: number[];
}

export class RetentionCleanup {
  readonly #em: () => EntityManager;
  readonly #lifecycle: LifecycleService;
  readonly #leases: JobLeases;
  readonly #logger: Logger;
  readonly #batchSize: number;
  readonly #leaseMs: number;
  readonly #audit: AuditRecorder | undefined;
  /** This instance's name in the lease table. */
  readonly holder: string;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = false;
  #ticking = false;

  constructor(options: {
    em: () => EntityManager;
    lifecycle: LifecycleService;
    leases: JobLeases;
    logger: Logger;
    batchSize: number;
    leaseMs: number;
    holder?: string;
    /** Where a tick that neutralised (or failed to neutralise) runs is recorded; none in some tests. */
    audit?: AuditRecorder;
  }) {
    this.#em = options.em;
    this.#lifecycle = options.lifecycle;
    this.#leases = options.leases;
    this.#logger = options.logger;
    this.#batchSize = options.batchSize;
    this.#leaseMs = options.leaseMs;
    this.holder = options.holder ?? randomUUID();
    this.#audit = options.audit;
  }

  /**
   * One tick: while this instance holds the lease, neutralise batches of runs due at `now` until none is
   * left or a batch neutralises nothing (its runs all failed: they are tried again next tick). A call
   * while this instance's previous tick still runs does nothing (`acquired` false).
   */
  async runOnce(now = new Date()): Promise<CleanupTick> {
    const tick: CleanupTick = { acquired: false, batches: 0, neutralized: [], failed: [] };
    const started = new Date();
    // One tick at a time per instance: a second one would renew the same holder's lease and work beside it.
    if (this.#ticking) return tick;
    this.#ticking = true;
    try {
      while (
        !this.#stopped &&
        (await this.#leases.acquire(RETENTION_CLEANUP_LEASE, this.holder, this.#leaseMs))
      ) {
        tick.acquired = true;
        const batch = await this.#lifecycle.neutralizeDue(this.#em(), {
          limit: this.#batchSize,
          dryRun: false,
          now,
        });
        tick.batches += 1;
        tick.neutralized.push(...batch.neutralized);
        tick.failed.push(...batch.failed.map((failure) => failure.run_id));
        if (batch.found < this.#batchSize || batch.neutralized.length === 0) break;
      }
    } finally {
      this.#ticking = false;
      if (tick.acquired) await this.#leases.release(RETENTION_CLEANUP_LEASE, this.holder);
    }
    if (tick.neutralized.length > 0 || tick.failed.length > 0) {
      this.#recordAudit(tick, started);
      // Counts and run ids only: never a run's personal data.
      this.#logger.info('retention cleanup neutralised due runs', {
        neutralized: tick.neutralized.length,
        failed: tick.failed.length,
        failed_run_ids: tick.failed.slice(0, 100),
      });
    }
    return tick;
  }

  /** The tick's entry in the audit trail, as a request's would be: the job in place of method and path. */
  #recordAudit(tick: CleanupTick, started: Date): void {
    this.#audit?.record({
      created_at: started,
      api_key_id: null,
      api_key_name: null,
      user_email: null,
      action: 'scheduled retention cleanup',
      method: 'JOB',
      path: '/jobs/retention-cleanup',
      query_params: null,
      resource_type: 'run',
      resource_id: null,
      status_code: tick.failed.length > 0 ? 207 : 200,
      duration_ms: Date.now() - started.getTime(),
      ip_address: null,
      user_agent: null,
      request_id: `retention-cleanup:${this.holder}`.slice(0, 100),
      error_message:
        tick.failed.length > 0 ? `${tick.failed.length} due runs could not be neutralized` : null,
      changes: {
        operation: 'retentionCleanup',
        neutralized_run_ids: tick.neutralized,
        failed_run_ids: tick.failed,
      },
    });
  }

  /** Runs a tick every `intervalMs` (the first one interval after start) until `stop()`. */
  start(intervalMs: number): void {
    const schedule = () => {
      this.#timer = setTimeout(() => {
        this.#running = this.runOnce()
          .catch((error: unknown) => {
            this.#logger.error('retention cleanup failed; it runs again at the next interval', {
              error: error instanceof Error ? error.name : 'unknown',
            });
          })
          .finally(() => {
            this.#running = undefined;
            if (!this.#stopped) schedule();
          });
      }, intervalMs);
      this.#timer.unref();
    };
    this.#stopped = false;
    schedule();
  }

  /** Stops scheduling and waits for a tick in progress to finish its batch. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }
}
