/**
 * The robots' flow of reports, for `make bench` (and scratch loads): a robot creates a run, then reports
 * each of its step runs in step order, `running` and then `success`. The bench's other report scenario
 * picks random seeded step runs of a million runs; this one reports on the runs the bench has just created.
 */
import type { Orm } from '../../src/db/orm.ts';

/** One report: the step run and the status sent. */
export interface RobotReport {
  id: number;
  status: 'running' | 'success';
}

/**
 * The step runs of the runs after run `afterRunId` (those created since), each run's in step order: what
 * `robotReports` walks.
 */
export async function newRunsStepRuns(orm: Orm, afterRunId: number): Promise<number[][]> {
  const rows = await orm.em
    .fork()
    .getConnection()
    .execute<{ run_id: number | string; id: number | string }[]>(
      'select run_id, id from process_step_run where run_id > ? and deleted_at is null order by run_id, step_index, id',
      [afterRunId],
    );
  const byRun = new Map<number, number[]>();
  for (const row of rows) {
    const runId = Number(row.run_id);
    const stepRuns = byRun.get(runId) ?? [];
    stepRuns.push(Number(row.id));
    byRun.set(runId, stepRuns);
  }
  return [...byRun.values()];
}

/**
 * The reports of the robots' flow on `runs` (each run's step runs in step order): every step run `running`,
 * then `success`. Runs take turns in waves of `wave` runs, so that consecutive requests go to different
 * runs: at 32 connections a run's next report is sent after its last one was answered, as a robot sends
 * them, rather than racing it.
 */
export function robotReports(runs: readonly (readonly number[])[], wave = 64): RobotReport[] {
  const reports: RobotReport[] = [];
  for (let first = 0; first < runs.length; first += wave) {
    const group = runs.slice(first, first + wave);
    const phases = 2 * Math.max(0, ...group.map((stepRuns) => stepRuns.length));
    for (let phase = 0; phase < phases; phase++) {
      for (const stepRuns of group) {
        const id = stepRuns[Math.floor(phase / 2)];
        if (id !== undefined) reports.push({ id, status: phase % 2 === 0 ? 'running' : 'success' });
      }
    }
  }
  return reports;
}
