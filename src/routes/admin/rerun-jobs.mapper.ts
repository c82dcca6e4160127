import type { Schemas } from '../../contract.ts';
import type { RerunJobAttempt } from '../../entities/index.ts';
import type { RerunJobWithAttempts, RerunQueueDepth } from '../../services/rerun.service.ts';
import { iso } from '../../util/timestamps.ts';

/** The queue's depth as the contract shows it. */
export function toRerunQueueDepth(depth: RerunQueueDepth): Schemas['RerunQueueDepth'] {
  return { ...depth.counts, oldest_queued_at: iso(depth.oldestQueuedAt) };
}

function toAttempt(attempt: RerunJobAttempt): Schemas['RerunJobAttempt'] {
  return {
    attempt: attempt.attempt,
    worker: attempt.worker,
    started_at: attempt.started_at.toISOString(),
    finished_at: iso(attempt.finished_at),
    outcome: attempt.outcome ?? null,
    http_status: attempt.http_status ?? null,
    message: attempt.message ?? null,
    duration_ms: attempt.duration_ms == null ? null : Number(attempt.duration_ms),
  };
}

/** One rerun job with its attempts as the contract shows it. */
export function toRerunJob({ job, attempts }: RerunJobWithAttempts): Schemas['RerunJob'] {
  return {
    id: job.id,
    step_run_id: job.step_run_id,
    original_step_run_id: job.original_step_run_id,
    run_id: job.run_id,
    adapter: job.adapter,
    status: job.status,
    attempts: job.attempts,
    max_attempts: job.max_attempts,
    timeout_seconds: Number(job.timeout_seconds),
    next_attempt_at: job.next_attempt_at.toISOString(),
    lease_owner: job.lease_owner ?? null,
    lease_expires_at: iso(job.lease_expires_at),
    last_error: job.last_error ?? null,
    created_at: job.created_at.toISOString(),
    updated_at: job.updated_at.toISOString(),
    finished_at: iso(job.finished_at),
    attempt_history: attempts.map(toAttempt),
  };
}
