import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/** Where a rerun job sends its call: the generic HTTP target or the original's automation server. */
export const RERUN_ADAPTERS = ['http', 'automation_server'] as const;
export type RerunAdapter = (typeof RERUN_ADAPTERS)[number];

/**
 * `queued` (waiting for its first attempt or a retry), `running` (claimed by a worker under a lease),
 * `succeeded`, `failed` (every attempt failed, or a failure that is not retried) or `cancelled` (its step
 * run was deleted or changed by someone else before the job finished).
 */
export const RERUN_JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type RerunJobStatus = (typeof RERUN_JOB_STATUSES)[number];

/**
 * One durable rerun job (src/reruns/rerun-queue.ts): created in the transaction that creates the new step
 * run, claimed by a worker with a lease, retried after the step's `retry_delays`. Ids are plain columns,
 * not foreign keys, like the audit trail's: a job's history stays readable whatever happens to its rows.
 */
export const RerunJob = defineEntity({
  name: 'RerunJob',
  tableName: 'rerun_job',
  properties: {
    id: p.integer().primary().autoincrement(),
    /** The new step run this job executes (one job per step run). */
    step_run_id: p.integer().unique(),
    /** The failed step run it reruns. */
    original_step_run_id: p.integer(),
    run_id: p.integer(),
    adapter: p.string().length(20).$type<RerunAdapter>(),
    status: p.string().length(20).$type<RerunJobStatus>(),
    /** Attempts started so far (claims); the attempt a worker works is this number after its claim. */
    attempts: p.integer().default(0),
    /** The first attempt and one retry per `retry_delays` entry (attempts ended `lease_expired` do not count). */
    max_attempts: p.integer(),
    /** Timeout of one call (`rerun_config.timeout_seconds`); a claim's lease outlasts it. */
    timeout_seconds: p.double(),
    /** When the job may next be claimed (now, or after a retry delay). */
    next_attempt_at: p.datetime(),
    /** The worker holding the job, a token unique to its claim, and when its lease ends. */
    lease_owner: p.string().length(100).nullable(),
    lease_token: p.string().length(36).nullable().index(),
    lease_expires_at: p.datetime().nullable(),
    /** The last failure's message (no personal data: statuses, error codes and the target's host). */
    last_error: p.string().length(2000).nullable(),
    created_at: p.datetime().onCreate(() => new Date()),
    updated_at: p.datetime().onCreate(() => new Date()),
    finished_at: p.datetime().nullable(),
  },
  // The claim's scan: due jobs in order of their time.
  indexes: [{ name: 'rerun_job_status_next_attempt_at_index', properties: ['status', 'next_attempt_at'] }],
});

export type RerunJob = InferEntity<typeof RerunJob>;

/**
 * How one attempt ended: `success`, one of the call's failure kinds (src/reruns/outbound-call.ts),
 * `lease_expired` (its worker stopped or lost the lease before recording an outcome) or `cancelled` (no
 * call: the step run was deleted or reported on meanwhile).
 */
export const RERUN_ATTEMPT_OUTCOMES = [
  'success',
  'network_error',
  'timeout',
  'rate_limit',
  'server_error',
  'client_error',
  'refused',
  'lease_expired',
  'cancelled',
] as const;
export type RerunAttemptOutcome = (typeof RERUN_ATTEMPT_OUTCOMES)[number];

/**
 * One attempt of a rerun job: written when a worker claims the job (so an attempt that never finishes is
 * still seen) and completed with its outcome. `(job_id, attempt)` is unique: an attempt is executed once.
 */
export const RerunJobAttempt = defineEntity({
  name: 'RerunJobAttempt',
  tableName: 'rerun_job_attempt',
  properties: {
    id: p.integer().primary().autoincrement(),
    job_id: p.integer(),
    attempt: p.integer(),
    worker: p.string().length(100),
    started_at: p.datetime(),
    finished_at: p.datetime().nullable(),
    outcome: p.string().length(20).$type<RerunAttemptOutcome>().nullable(),
    http_status: p.integer().nullable(),
    message: p.string().length(2000).nullable(),
    duration_ms: p.double().nullable(),
  },
  uniques: [{ name: 'rerun_job_attempt_job_id_attempt_unique', properties: ['job_id', 'attempt'] }],
});

export type RerunJobAttempt = InferEntity<typeof RerunJobAttempt>;
