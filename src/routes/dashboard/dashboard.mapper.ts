import type { Schemas } from '../../contract.ts';
import type { ProcessDashboard, ProcessOverview } from '../../services/dashboard.service.ts';
import { toProcess } from '../processes/processes.mapper.ts';
import { toProcessRun } from '../runs/runs.mapper.ts';

/** Whole seconds as `HH:MM:SS`; hours keep counting past 24 (`49:00:00`). */
export function toDuration(seconds: number): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor((seconds % 3600) / 60))}:${pad(seconds % 60)}`;
}

/** The product README's dashboard as the contract shows it. */
export function toProcessDashboard({
  process,
  runs,
  statistics,
}: ProcessDashboard): Schemas['ProcessDashboard'] {
  return {
    process: { id: process.process.id, name: process.process.name, total_steps: process.steps.length },
    runs: runs.map(({ run, success_rate }) => ({
      id: run.id,
      entity_id: run.entity_id,
      entity_name: run.entity_name ?? null,
      status: run.status,
      success_rate,
      created_at: run.created_at.toISOString(),
    })),
    statistics: {
      ...statistics.counts,
      average_completion_time:
        statistics.average_completion_seconds === null
          ? null
          : toDuration(statistics.average_completion_seconds),
      success_rate: statistics.success_rate,
    },
  };
}

/** The original service's overview as the contract shows it. */
export function toProcessOverview({ process, runs, counts }: ProcessOverview): Schemas['ProcessOverview'] {
  return { process: toProcess(process), runs: runs.map(toProcessRun), ...counts };
}
