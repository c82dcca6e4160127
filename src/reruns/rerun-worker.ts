/**
 * The rerun worker: claims due jobs from the queue (rerun-queue.ts), at most `RERUN_WORKER_CONCURRENCY` at
 * once, and executes each attempt:
 *
 * 1. In one transaction that locks the run: the job is cancelled when its step run or run was deleted, or
 *    someone else reported on the step run meanwhile; otherwise the generic HTTP target's step run goes
 *    `running` (the automation server's stays `pending`: its robot reports on it).
 * 2. The call (outbound-call.ts), with the target resolved again from the step run's `rerun_config`, so a
 *    host taken off the allow-list since is refused.
 * 3. In one transaction that locks the run: the attempt's outcome; a failure named in the target's
 *    `failure_conditions` is queued again after its delay (a 429's Retry-After when longer) while attempts
 *    remain; otherwise the job ends and — if the step run is still as the job left it — the step run
 *    becomes `success` (HTTP target) or `failed` with `failure` = `{error, message, adapter, result_type}`,
 *    and the run's status is recomputed.
 *
 * It runs inside the API process by default (`RERUN_WORKER`) or alone (`make worker`, src/worker.ts); any
 * number of workers may share one database.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import { ProcessStepRun, type RerunAdapter } from '../entities/index.ts';
import type { Logger } from '../logger.ts';
import { lockRun, recomputeRunStatus } from '../services/run.service.ts';
import { callTarget, retryDelaySeconds, type AttemptOutcome } from './outbound-call.ts';
import type { ClaimedJob, RerunQueue, Settlement } from './rerun-queue.ts';
import { resolveRerunTarget, type RerunSettings, type RerunTarget } from './rerun-target.ts';

/** `failure.result_type` of a step run whose rerun failed for good (the original's result values). */
export type RerunResultType = 'failure' | 'source_error' | 'not_supported';

/** `failure.error` of a step run whose rerun failed. */
export const RERUN_FAILED = 'Rerun failed';

/**
 * Attempts of one job whose worker may stop before they end (crash, kill, lost lease) before the job fails:
 * such attempts do not count against `max_attempts`, but a job that stops every worker must end.
 */
export const MAX_EXPIRED_ATTEMPTS = 3;

export interface RerunWorkerOptions {
  em: () => EntityManager;
  queue: RerunQueue;
  settings: RerunSettings;
  logger: Logger;
  concurrency: number;
  pollIntervalMs: number;
}

/** What the call of one attempt needs, read in the attempt's first transaction. */
interface Prepared {
  target: RerunTarget;
  body: Record<string, unknown>;
}

type Begun = { kind: 'call'; prepared: Prepared } | { kind: 'done' };

function resultTypeOf(outcome: AttemptOutcome): RerunResultType {
  if (outcome.kind === 'refused') return 'not_supported';
  if (outcome.kind === 'client_error') return 'source_error';
  return 'failure';
}

export class RerunWorker {
  /** This worker's name in leases and attempts: host, process and a random suffix. */
  readonly id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  readonly #options: RerunWorkerOptions;
  readonly #active = new Set<Promise<void>>();
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(options: RerunWorkerOptions) {
    this.#options = options;
  }

  /** Jobs being executed now. */
  get active(): number {
    return this.#active.size;
  }

  /** Starts claiming and executing jobs until `stop()`. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#work();
  }

  /** Looks for due jobs now instead of at the next poll (a job was just queued in this process). */
  wake(): void {
    this.#wake?.();
  }

  /**
   * Stops claiming, and waits up to `timeoutMs` for the attempts under way. One that has not ended by then
   * is left to its lease: another worker executes the job again once the lease has expired.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.#running = false;
    this.wake();
    await this.#loop;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#active]),
      new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
    ]);
    clearTimeout(timer);
  }

  /** Claims what is due (up to the free slots) and executes it to the end; the number of attempts made. */
  async drain(): Promise<number> {
    const claimed = await this.#options.queue.claim(this.id, this.#options.concurrency);
    await Promise.all(claimed.map((job) => this.#execute(job)));
    return claimed.length;
  }

  async #work(): Promise<void> {
    const { queue, logger, concurrency, pollIntervalMs } = this.#options;
    while (this.#running) {
      const free = concurrency - this.#active.size;
      let claimed: ClaimedJob[] = [];
      if (free > 0) {
        try {
          claimed = await queue.claim(this.id, free);
        } catch (error) {
          logger.error('rerun worker could not claim jobs', { error: String(error) });
        }
      }
      for (const job of claimed) {
        const execution = this.#execute(job).finally(() => {
          this.#active.delete(execution);
          this.wake();
        });
        this.#active.add(execution);
      }
      // Everything free was claimed: more may be due at once.
      if (claimed.length > 0 && claimed.length === free) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollIntervalMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  /** One attempt of a claimed job, start to end; never throws (a failure is logged, the lease expires). */
  async #execute(claimed: ClaimedJob): Promise<void> {
    const { logger } = this.#options;
    try {
      const begun = await this.#begin(claimed);
      if (begun.kind === 'done') return;
      const { target, body } = begun.prepared;
      const outcome = await callTarget(
        {
          method: target.method,
          url: target.url,
          headers: {
            ...target.headers,
            'Idempotency-Key': `step-run-${claimed.job.step_run_id}`,
            'X-Rerun-Attempt': String(claimed.attempt),
          },
          body,
          timeoutSeconds: target.timeoutSeconds,
          successStatuses: target.successStatuses,
        },
        target.policy,
      );
      await this.#finish(claimed, target.adapter, outcome, target);
      logger.info('rerun attempt', {
        job_id: claimed.job.id,
        step_run_id: claimed.job.step_run_id,
        attempt: claimed.attempt,
        outcome: outcome.kind,
        duration_ms: Math.round(outcome.durationMs),
      });
    } catch (error) {
      logger.error('rerun attempt failed inside the service; the job is retried when its lease expires', {
        job_id: claimed.job.id,
        attempt: claimed.attempt,
        error: String(error),
      });
    }
  }

  /** The attempt's first transaction: cancel, give up, or mark the step run and prepare the call. */
  async #begin(claimed: ClaimedJob): Promise<Begun> {
    const { job } = claimed;
    return this.#options.em().transactional(async (tx): Promise<Begun> => {
      const run = await lockRun(tx, job.run_id);
      const stepRun =
        run === undefined
          ? null
          : await tx.findOne(ProcessStepRun, { id: job.step_run_id }, { refresh: true });
      const end = async (
        settlement: Settlement,
        failure?: { message: string; resultType: RerunResultType },
      ) => {
        await this.#options.queue.settle(tx, claimed, settlement);
        if (failure !== undefined && run !== undefined && stepRun !== null) {
          failStepRun(stepRun, job.adapter, failure.message, failure.resultType);
          await tx.flush();
          await recomputeRunStatus(tx, run);
        }
        return { kind: 'done' } as const;
      };
      if (run === undefined || stepRun === null) {
        return end(
          cancelled(`Step run ${job.step_run_id} or its run was deleted before the rerun was executed`),
        );
      }
      const expected = job.adapter === 'http' ? ['pending', 'running'] : ['pending'];
      if (!expected.includes(stepRun.status)) {
        return end(
          cancelled(`Step run ${stepRun.id} was reported ${stepRun.status} before the rerun was executed`),
        );
      }
      if (claimed.expiredAttempts > MAX_EXPIRED_ATTEMPTS) {
        const message = `The workers executing this rerun stopped before the attempt ended ${claimed.expiredAttempts} times`;
        return end(
          { outcome: 'lease_expired', message, durationMs: null, jobStatus: 'failed' },
          { message, resultType: 'failure' },
        );
      }
      const resolved = resolveRerunTarget(stepRun.rerun_config, this.#options.settings);
      if (!resolved.ok) {
        const message = `Step run ${stepRun.id} cannot be rerun: ${resolved.reason}`;
        return end(
          { outcome: 'refused', message, durationMs: null, jobStatus: 'failed' },
          { message, resultType: 'not_supported' },
        );
      }
      await this.#options.queue.fitLease(tx, claimed, resolved.target.timeoutSeconds);
      if (job.adapter === 'http' && stepRun.status === 'pending') {
        const now = new Date();
        stepRun.status = 'running';
        stepRun.started_at ??= now;
        stepRun.failure = null;
        stepRun.updated_at = now;
        await tx.flush();
        await recomputeRunStatus(tx, run);
      }
      // The automation server takes its own request; the generic target gets the documented payload.
      if (resolved.target.adapter === 'automation_server') {
        return { kind: 'call', prepared: { target: resolved.target, body: { status: 'new' } } };
      }
      return {
        kind: 'call',
        prepared: {
          target: resolved.target,
          body: {
            step_run_id: stepRun.id,
            original_step_run_id: job.original_step_run_id,
            run_id: run.id,
            process_id: run.process.id,
            step_id: stepRun.step.id,
            step_index: stepRun.step_index,
            entity_id: run.entity_id,
            subprocess_id: stepRun.rerun_config['subprocess_id'] ?? null,
            rerun_count: stepRun.rerun_count,
            attempt: claimed.attempt,
            meta: stepRun.meta ?? null,
          },
        },
      };
    });
  }

  /** The attempt's last transaction: record the outcome, retry or end the job, update the step run. */
  async #finish(claimed: ClaimedJob, adapter: RerunAdapter, outcome: AttemptOutcome, target: RerunTarget) {
    const { job } = claimed;
    const now = Date.now();
    let settlement: Settlement;
    if (outcome.kind === 'success') {
      settlement = {
        outcome: 'success',
        httpStatus: outcome.status,
        message: null,
        durationMs: outcome.durationMs,
        jobStatus: 'succeeded',
      };
    } else {
      const planned = claimed.attempt - claimed.expiredAttempts;
      const retried = target.retriedFailures.has(outcome.kind) && planned < job.max_attempts;
      settlement = {
        outcome: outcome.kind,
        ...(outcome.status === undefined ? {} : { httpStatus: outcome.status }),
        // What the external system answered stays out of the job's records (it may echo personal data).
        message: outcome.summary ?? outcome.message,
        durationMs: outcome.durationMs,
        jobStatus: retried ? 'queued' : 'failed',
        ...(retried
          ? {
              retryAt: new Date(
                now + retryDelaySeconds(outcome, target.retryDelays[planned - 1] ?? 0) * 1000,
              ),
            }
          : {}),
      };
    }
    await this.#options.em().transactional(async (tx) => {
      const run = await lockRun(tx, job.run_id);
      const held = await this.#options.queue.settle(tx, claimed, settlement);
      if (!held || run === undefined || settlement.jobStatus === 'queued') return;
      const stepRun = await tx.findOne(ProcessStepRun, { id: job.step_run_id }, { refresh: true });
      // A step run someone reported on meanwhile keeps that report.
      const asLeft = adapter === 'http' ? 'running' : 'pending';
      if (stepRun === null || stepRun.status !== asLeft) return;
      if (outcome.kind === 'success') {
        if (adapter !== 'http') return; // The automation server's robot reports on the step run itself.
        const finished = new Date();
        stepRun.status = 'success';
        stepRun.finished_at = finished;
        stepRun.failure = null;
        stepRun.updated_at = finished;
      } else {
        const attempts = `attempt ${claimed.attempt - claimed.expiredAttempts} of ${job.max_attempts}`;
        failStepRun(stepRun, adapter, `${outcome.message} (${attempts})`, resultTypeOf(outcome));
      }
      await tx.flush();
      await recomputeRunStatus(tx, run);
    });
  }
}

function cancelled(message: string): Settlement {
  return { outcome: 'cancelled', message, durationMs: null, jobStatus: 'cancelled' };
}

function failStepRun(
  stepRun: ProcessStepRun,
  adapter: RerunAdapter,
  message: string,
  resultType: RerunResultType,
) {
  const now = new Date();
  stepRun.status = 'failed';
  stepRun.finished_at = now;
  stepRun.failure = { error: RERUN_FAILED, message, adapter, result_type: resultType };
  stepRun.updated_at = now;
}
