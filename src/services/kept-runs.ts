/**
 * PostgreSQL: runs as this server last wrote them — by a new run or a step-run report — so that the next
 * report on one of their step runs derives from that without reading the run again (`StepRunService.report`).
 * Each is kept with the version of its row as written (its xmin); a report writes on it only while the row
 * is still that version. Every writer of a run's step runs writes the run's row (postgres-run-writes.ts), so
 * a kept run whose row is still that version is the run as it is.
 */
import type { ReportedRun } from '../db/postgres-run-writes.ts';
import type { StepRunRecord } from '../db/records.ts';
import { LruMap } from '../util/lru-map.ts';

/** A run as this server last wrote it. */
export interface KeptRun {
  run: ReportedRun;
  /** The run's row as written (its xmin). */
  version: string;
  /** Its live step runs, every attempt, as written. */
  stepRuns: StepRunRecord[];
  /** When it was written (`performance.now()`). */
  keptAt: number;
}

/**
 * How long a kept run is used. The version guards correctness, so this bounds memory and staleness only:
 * long enough for a robot's next step, far shorter than the 2^32 transactions after which an xmin could
 * come round again.
 */
const KEPT_RUN_MS = 5 * 60_000;

/** At most this many runs are kept (the least recently used goes first)… */
const MAX_KEPT_RUNS = 1000;

/** …and only runs with at most this many step runs (every attempt counted). */
const MAX_KEPT_STEP_RUNS = 50;

/** Runs as this server last wrote them, by run, and found by any of their step runs. */
export class KeptRuns {
  readonly #runs = new LruMap<number, KeptRun>(MAX_KEPT_RUNS);
  /** The run of each step run of `#runs`'s runs; an entry whose run has gone finds nothing there. */
  readonly #runOfStepRun = new LruMap<number, number>(MAX_KEPT_RUNS * MAX_KEPT_STEP_RUNS);

  /** The kept run of step run `stepRunId`, unless it has expired. */
  of(stepRunId: number): KeptRun | undefined {
    const runId = this.#runOfStepRun.get(stepRunId);
    const kept = runId === undefined ? undefined : this.#runs.get(runId);
    if (kept === undefined || !kept.stepRuns.some((stepRun) => stepRun.id === stepRunId)) return undefined;
    if (performance.now() - kept.keptAt < KEPT_RUN_MS) return kept;
    this.#runs.delete(kept.run.id);
    return undefined;
  }

  /** Keeps `run` with its live step runs as written at `version` (its row's xmin). */
  keep(run: ReportedRun, stepRuns: StepRunRecord[], version: string): void {
    if (stepRuns.length > MAX_KEPT_STEP_RUNS) {
      this.#runs.delete(run.id);
      return;
    }
    this.#runs.set(run.id, { run, version, stepRuns, keptAt: performance.now() });
    for (const stepRun of stepRuns) this.#runOfStepRun.set(stepRun.id, run.id);
  }

  /** Forgets run `runId`: its row has moved on. */
  forget(runId: number): void {
    this.#runs.delete(runId);
  }
}
