/**
 * The run status rules of the original service (reference/original-rules.md), as pure functions: which
 * step runs count, the status they derive, and the run's timestamp transitions.
 */
import { refId, type StepRunShape } from '../db/records.ts';
import type { ProcessRun, RunStatus, StepRunStatus } from '../entities/index.ts';

const TERMINAL: ReadonlySet<RunStatus> = new Set(['completed', 'failed', 'cancelled']);

/**
 * The current attempts among a run's live step runs: those no live step run reruns (`rerun_of`). A rerun
 * supersedes the attempt it reruns; every attempt stays readable as history. Keeps the input order.
 */
export function currentAttempts<T extends Pick<StepRunShape, 'id' | 'rerun_of'>>(
  stepRuns: readonly T[],
): T[] {
  const superseded = new Set<number>();
  for (const stepRun of stepRuns) {
    if (stepRun.rerun_of != null) superseded.add(refId(stepRun.rerun_of));
  }
  return stepRuns.filter((stepRun) => !superseded.has(stepRun.id));
}

/**
 * The run status derived from the statuses of its current step runs, in the original's order:
 * 1. a cancelled run stays cancelled; 2. any failed → failed; 3. else any cancelled → cancelled;
 * 4. else any running → running; 5. else all success/optional with at least one success → completed;
 * 6. else any pending → running (the original's rule: this includes a run whose step runs are all
 *    pending, once one of them is reported on); 7. else pending (also with no step runs).
 */
export function deriveRunStatus(current: RunStatus, stepStatuses: readonly StepRunStatus[]): RunStatus {
  if (current === 'cancelled') return 'cancelled';
  const has = (status: StepRunStatus) => stepStatuses.includes(status);
  if (has('failed')) return 'failed';
  if (has('cancelled')) return 'cancelled';
  if (has('running')) return 'running';
  const done = stepStatuses.every((status) => status === 'success' || status === 'optional');
  if (stepStatuses.length > 0 && done && has('success')) return 'completed';
  if (has('pending')) return 'running';
  return 'pending';
}

/**
 * Moves `run` to `next` with the original's timestamp transitions: pending/running → completed, failed or
 * cancelled sets `finished_at` (when unset); a terminal status → pending/running clears it; pending →
 * running sets `started_at` (when unset). Returns whether anything changed.
 */
export function applyRunStatus(
  run: Pick<ProcessRun, 'status' | 'started_at' | 'finished_at'>,
  next: RunStatus,
  now: Date,
): boolean {
  const previous = run.status;
  if (previous === next) return false;
  const wasTerminal = TERMINAL.has(previous);
  const isTerminal = TERMINAL.has(next);
  if (!wasTerminal && isTerminal) run.finished_at ??= now;
  if (wasTerminal && !isTerminal) run.finished_at = null;
  if (previous === 'pending' && next === 'running') run.started_at ??= now;
  run.status = next;
  return true;
}
