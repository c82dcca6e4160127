/**
 * A lease in the database (table `job_lease`) that lets one instance at a time work a background job when
 * several instances share a database. Taking the lease is one conditional UPDATE (free, expired, or ours
 * already), atomic on every dialect, then a read of who holds it; the first taker INSERTs the row, and of
 * two first takers the primary key lets one win. A holder that crashes or hangs loses the lease when `expires_at` passes.
 *
 * Times come from the instance's clock: instances sharing a database must keep their clocks in step (NTP),
 * within a small fraction of the lease duration.
 */
import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/core';
import { JobLease } from '../entities/index.ts';

export class JobLeases {
  readonly #em: () => EntityManager;

  constructor(em: () => EntityManager) {
    this.#em = em;
  }

  /**
   * Takes (or renews) the lease `name` for `holder` until `durationMs` from now; false when another
   * holder has an unexpired lease.
   */
  async acquire(name: string, holder: string, durationMs: number): Promise<boolean> {
    const em = this.#em();
    const now = new Date();
    const expires_at = new Date(now.getTime() + durationMs);
    await em.nativeUpdate(
      JobLease,
      { name, $or: [{ holder }, { expires_at: { $lte: now } }] },
      { holder, expires_at },
    );
    // Who holds it is read back rather than taken from the UPDATE's row count, which Babelfish reports
    // wrongly (MikroORM counts its `select @@rowcount` row there).
    const lease = await em.findOne(JobLease, { name }, { refresh: true, disableIdentityMap: true });
    if (lease !== null) return lease.holder === holder;
    try {
      await em.insert(JobLease, { name, holder, expires_at });
      return true;
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) return false;
      throw error;
    }
  }

  /** Gives the lease `name` up if `holder` holds it, so another instance need not wait for it to expire. */
  async release(name: string, holder: string): Promise<void> {
    await this.#em().nativeUpdate(JobLease, { name, holder }, { expires_at: new Date() });
  }
}
