/**
 * All MikroORM entities of the service. `entities` is the explicit list given to the ORM (no folder
 * discovery). Each entity is exported as a value (the schema, usable as `em.find(Process, ...)`) and as a
 * type of the same name (the entity shape).
 */
import { ApiKey } from './api-key.entity.ts';
import { AuditLog } from './audit-log.entity.ts';
import { JobLease } from './job-lease.entity.ts';
import { RateLimitWindow } from './rate-limit-window.entity.ts';
import { RerunJob, RerunJobAttempt } from './rerun-job.entity.ts';
import { Process } from './process.entity.ts';
import { ProcessRun } from './process-run.entity.ts';
import { ProcessRunCount } from './process-run-count.entity.ts';
import { ProcessRunField } from './process-run-field.entity.ts';
import { ProcessStep } from './process-step.entity.ts';
import { ProcessStepRun } from './process-step-run.entity.ts';

export { ApiKey, API_KEY_ROLES, type ApiKeyRole } from './api-key.entity.ts';
export { AuditLog } from './audit-log.entity.ts';
export { JobLease } from './job-lease.entity.ts';
export { RateLimitWindow } from './rate-limit-window.entity.ts';
export {
  RerunJob,
  RerunJobAttempt,
  RERUN_ADAPTERS,
  RERUN_ATTEMPT_OUTCOMES,
  RERUN_JOB_STATUSES,
  type RerunAdapter,
  type RerunAttemptOutcome,
  type RerunJobStatus,
} from './rerun-job.entity.ts';
export { Process } from './process.entity.ts';
export { ProcessRun, RUN_STATUSES, type RunStatus } from './process-run.entity.ts';
export { ProcessRunCount } from './process-run-count.entity.ts';
export { ProcessRunField } from './process-run-field.entity.ts';
export { ProcessStep } from './process-step.entity.ts';
export { ProcessStepRun, STEP_RUN_STATUSES, type StepRunStatus } from './process-step-run.entity.ts';
export { SOFT_DELETE_FILTER } from './common.ts';

export const entities = [
  Process,
  ProcessStep,
  ProcessRun,
  ProcessStepRun,
  ProcessRunCount,
  ProcessRunField,
  ApiKey,
  AuditLog,
  JobLease,
  RateLimitWindow,
  RerunJob,
  RerunJobAttempt,
];

/** Entities that have `deleted_at` / `deletion_token` and the default `softDelete` filter. */
export const softDeletableEntities = [Process, ProcessStep, ProcessRun, ProcessStepRun];
