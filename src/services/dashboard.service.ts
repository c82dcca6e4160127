import type { EntityManager } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { Dialect } from '../db/database-url.ts';
import {
  newestRunsQuery,
  runStatisticsQuery,
  successRatesQuery,
  type RunStatisticsRow,
  type SuccessRateRow,
} from '../db/dashboard-queries.ts';
import { queryRecords, type RunRecord } from '../db/records.ts';
import { countsOfProcess } from '../db/run-counts.ts';
import { ProcessRun, RUN_STATUSES } from '../entities/index.ts';
import type { ProcessService, ProcessWithSteps } from './process.service.ts';
import { currentStepRunRecordsOf, type RunWithSteps } from './run.service.ts';

/** The number of live runs of a process, in total and per status. */
export interface RunCounts {
  total_runs: number;
  completed_runs: number;
  failed_runs: number;
  running_runs: number;
  pending_runs: number;
  cancelled_runs: number;
}

export interface RunStatistics {
  counts: RunCounts;
  /** Mean duration of the completed runs that have both times, in whole seconds; null when none. */
  average_completion_seconds: number | null;
  /** `completed_runs / total_runs` in percent, two decimals; 0 without runs. */
  success_rate: number;
}

const DASHBOARD_RUN_FIELDS = ['id', 'entity_id', 'entity_name', 'status', 'created_at'] as const;
type DashboardRunField = (typeof DASHBOARD_RUN_FIELDS)[number];

/** A run of the dashboard with the share of its current step runs that succeeded. */
export interface RunSuccess {
  /** Only the fields the dashboard shows are read (a record, src/db/records.ts). */
  run: Pick<RunRecord, DashboardRunField>;
  /** Percent of its current step runs that are `success` or `optional`, two decimals; 0 without any. */
  success_rate: number;
}

export interface ProcessDashboard {
  process: ProcessWithSteps;
  runs: RunSuccess[];
  statistics: RunStatistics;
}

export interface ProcessOverview {
  process: ProcessWithSteps;
  runs: RunWithSteps[];
  counts: RunCounts;
}

/** `part / whole` in percent, rounded half up to two decimals; 0 when `whole` is 0. */
export function percentage(part: number, whole: number): number {
  // part * 10000 / whole is exact whenever it ends in .5, so Math.round rounds true halves up.
  return whole === 0 ? 0 : Math.round((part * 10000) / whole) / 100;
}

/** The dashboards of a process: figures aggregated in the database over all its live runs (any role). */
export class DashboardService {
  readonly #dialect: Dialect;
  readonly #processes: ProcessService;

  constructor(options: { dialect: Dialect; processes: ProcessService }) {
    this.#dialect = options.dialect;
    this.#processes = options.processes;
  }

  /**
   * The live process `processId` (NotFoundError otherwise) with its live steps, statistics over all its
   * live runs, and its newest `runsLimit` runs, each with its step success rate.
   */
  async dashboard(em: EntityManager, processId: number, runsLimit: number): Promise<ProcessDashboard> {
    const process = await this.#processes.get(em, processId);
    const sql = em as SqlEntityManager;
    const statistics = await this.#statistics(sql, processId, true);
    if (statistics.counts.total_runs === 0) return { process, runs: [], statistics };
    const runs = await queryRecords<Pick<RunRecord, DashboardRunField>>(
      sql,
      ProcessRun,
      newestRunsQuery(sql, this.#dialect, processId, runsLimit).select([...DASHBOARD_RUN_FIELDS]),
    );
    // The same page again, as a derived table: a run created between the two statements could push the
    // oldest listed run out of it (shown at 0 until the next refresh); no id list, however large the page.
    const rates = await successRatesQuery(sql, this.#dialect, processId, runsLimit).execute<SuccessRateRow[]>(
      'all',
      false,
    );
    const byRun = new Map(rates.map((row) => [Number(row.run_id), row]));
    return {
      process,
      runs: runs.map((run) => {
        const rate = byRun.get(run.id);
        return {
          run,
          success_rate: rate === undefined ? 0 : percentage(Number(rate.succeeded), Number(rate.step_runs)),
        };
      }),
      statistics,
    };
  }

  /**
   * The live process `processId` (NotFoundError otherwise) with its live steps, the number of its live
   * runs per status, and its newest `runsLimit` runs with their current step runs.
   */
  async overview(em: EntityManager, processId: number, runsLimit: number): Promise<ProcessOverview> {
    const process = await this.#processes.get(em, processId);
    const sql = em as SqlEntityManager;
    const { counts } = await this.#statistics(sql, processId, false);
    if (counts.total_runs === 0) return { process, runs: [], counts };
    const runs = await queryRecords<RunRecord>(
      sql,
      ProcessRun,
      newestRunsQuery(sql, this.#dialect, processId, runsLimit),
    );
    const steps = await currentStepRunRecordsOf(
      em,
      runs.map((run) => run.id),
    );
    return { process, runs: runs.map((run) => ({ run, steps: steps.get(run.id) ?? [] })), counts };
  }

  /**
   * The counts of the live runs of `processId` from its run counts (run-counts.ts), and, `withAverage`,
   * the average completion time over its completed runs from the durations summed beside them; all from
   * the runs themselves for a process without run counts.
   */
  async #statistics(em: SqlEntityManager, processId: number, withAverage: boolean): Promise<RunStatistics> {
    const counted = await countsOfProcess(em, processId);
    if (counted === undefined) return this.#countedStatistics(em, processId);
    const byStatus = counted.counts;
    const total = RUN_STATUSES.reduce((sum, status) => sum + byStatus[status], 0);
    const average =
      withAverage && counted.completedTimed > 0
        ? counted.completedDurationMs / counted.completedTimed / 1000
        : null;
    return statisticsOf(
      {
        total_runs: total,
        completed_runs: byStatus.completed,
        failed_runs: byStatus.failed,
        running_runs: byStatus.running,
        pending_runs: byStatus.pending,
        cancelled_runs: byStatus.cancelled,
      },
      average,
    );
  }

  async #countedStatistics(em: SqlEntityManager, processId: number): Promise<RunStatistics> {
    const row = await runStatisticsQuery(em, this.#dialect, processId).execute<RunStatisticsRow>(
      'get',
      false,
    );
    return statisticsOf(
      {
        total_runs: Number(row.total_runs),
        completed_runs: Number(row.completed_runs),
        failed_runs: Number(row.failed_runs),
        running_runs: Number(row.running_runs),
        pending_runs: Number(row.pending_runs),
        cancelled_runs: Number(row.cancelled_runs),
      },
      row.average_seconds,
    );
  }
}

function statisticsOf(counts: RunCounts, averageSeconds: number | string | null | undefined): RunStatistics {
  return {
    counts,
    // Never below zero: an adopted run may have been stamped finished before it started.
    average_completion_seconds:
      averageSeconds == null ? null : Math.max(0, Math.round(Number(averageSeconds))),
    success_rate: percentage(counts.completed_runs, counts.total_runs),
  };
}
