/**
 * The dashboards of a process with more runs than `runs_limit` can embed: 10,050 runs, written in bulk
 * through the ORM (the API would take minutes), each with one step run. The figures still cover every
 * run, the embedded lists stop at 10,000 — also on SQL Server, whose statements take at most 2,100
 * parameters — and the overview still gives each embedded run its step run.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProcessRun, ProcessStepRun, RUN_STATUSES, type StepRunStatus } from '../../src/entities/index.ts';
import { startTestServer, type TestServer } from '../support/app.ts';
import type { Schemas } from '../../src/contract.ts';
import { recountRuns } from '../../src/db/run-counts.ts';

type DashboardBody = Schemas['ProcessDashboard'];
type OverviewBody = Schemas['ProcessOverview'];

const RUNS = 10_050;
const BATCH = 500;
const FIRST_CREATED = Date.parse('2026-01-01T00:00:00.000Z');
/** Run i: status RUN_STATUSES[i % 5] (2,010 runs each), created i seconds after the first. */
const statusOf = (i: number) => RUN_STATUSES[i % RUN_STATUSES.length] ?? 'pending';
const STEP_STATUS: Record<(typeof RUN_STATUSES)[number], StepRunStatus> = {
  completed: 'success',
  failed: 'failed',
  running: 'running',
  pending: 'pending',
  cancelled: 'cancelled',
};

describe('the dashboards of a process with 10,050 runs', () => {
  let server: TestServer;
  let processId = 0;
  /** Run ids by i (creation order). */
  let runIds: number[] = [];

  const getJson = async <T>(path: string): Promise<T> => {
    const response = await server.request(path);
    const text = await response.text();
    expect(response.status, `${path}: ${text.slice(0, 500)}`).toBe(200);
    return JSON.parse(text) as T;
  };
  /** Run ids newest first: created_at desc (= i desc). */
  const newest = (count: number) => runIds.slice(-count).reverse();

  beforeAll(async () => {
    server = await startTestServer();
    const post = async (path: string, body: unknown) => {
      const response = await server.request(path, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'Content-Type': 'application/json' },
      });
      expect(response.status).toBe(201);
      return (await response.json()) as { id: number };
    };
    processId = (await post('/api/v1/processes', { name: 'Sygedagpenge – opfølgning' })).id;
    const stepId = (await post('/api/v1/steps', { process_id: processId, index: 0, name: 'Send brev' })).id;
    const em = server.container.orm.em.fork();
    for (let start = 0; start < RUNS; start += BATCH) {
      const rows = Array.from({ length: Math.min(BATCH, RUNS - start) }, (_, offset) => {
        const i = start + offset;
        const created = new Date(FIRST_CREATED + i * 1000);
        const status = statusOf(i);
        return {
          process: processId,
          entity_id: String(1_000_000_000 + i),
          entity_name: `Borger nr. ${i}`,
          status,
          meta: { løbenummer: i },
          is_neutralized: false,
          started_at: status === 'pending' ? null : created,
          // Every completed run took 90 seconds.
          finished_at: status === 'completed' ? new Date(created.getTime() + 90_000) : null,
          created_at: created,
          updated_at: created,
        };
      });
      await em.insertMany(ProcessRun, rows);
    }
    runIds = (
      await em.find(ProcessRun, { process: processId }, { fields: ['id'], orderBy: { id: 'asc' } })
    ).map((run) => run.id);
    expect(runIds).toHaveLength(RUNS);
    for (let start = 0; start < RUNS; start += BATCH) {
      const rows = runIds.slice(start, start + BATCH).map((runId, offset) => ({
        run: runId,
        step: stepId,
        step_index: 0,
        status: STEP_STATUS[statusOf(start + offset)],
        can_rerun: false,
        rerun_config: {},
        rerun_count: 0,
        max_reruns: 0,
        created_at: new Date(FIRST_CREATED + (start + offset) * 1000),
        updated_at: new Date(FIRST_CREATED + (start + offset) * 1000),
      }));
      await em.insertMany(ProcessStepRun, rows);
    }
    // Runs written in bulk behind the service's back, as a migration finds them: counted once.
    await recountRuns(em);
  }, 600_000);
  afterAll(async () => {
    await server?.close();
  });

  const statistics = {
    total_runs: RUNS,
    completed_runs: 2010,
    failed_runs: 2010,
    running_runs: 2010,
    pending_runs: 2010,
    cancelled_runs: 2010,
    average_completion_time: '00:01:30',
    success_rate: 20,
  };

  it('counts all runs and embeds the newest 1,000 by default', async () => {
    const body = await getJson<DashboardBody>(`/api/v1/dashboard/process/${processId}`);
    expect(body.statistics).toEqual(statistics);
    expect(body.runs.map((run) => run.id)).toEqual(newest(1000));
    const runs = await getJson<{ total: number }>(`/api/v1/runs?process_id=${processId}&status=completed`);
    expect(runs.total).toBe(statistics.completed_runs);
  }, 120_000);

  it('embeds 10,000 runs with runs_limit=10000, each with its success rate', async () => {
    const body = await getJson<DashboardBody>(`/api/v1/dashboard/process/${processId}?runs_limit=10000`);
    expect(body.statistics).toEqual(statistics);
    expect(body.runs.map((run) => run.id)).toEqual(newest(10_000));
    // The newest run is run 10,049 (10049 % 5 = 4: cancelled); completed runs score 100, the rest 0.
    expect(body.runs[0]).toMatchObject({
      status: 'cancelled',
      success_rate: 0,
      entity_name: 'Borger nr. 10049',
    });
    const rates = new Map<string, Set<number>>();
    for (const run of body.runs)
      rates.set(run.status, (rates.get(run.status) ?? new Set()).add(run.success_rate));
    expect(Object.fromEntries([...rates].map(([status, set]) => [status, [...set]]))).toEqual({
      completed: [100],
      failed: [0],
      running: [0],
      pending: [0],
      cancelled: [0],
    });
  }, 120_000);

  it('overview: embeds 10,000 runs, each with its step run, and counts all runs', async () => {
    const body = await getJson<OverviewBody>(`/api/v1/dashboard/overview/${processId}?runs_limit=10000`);
    expect(body.total_runs).toBe(RUNS);
    expect([
      body.completed_runs,
      body.failed_runs,
      body.running_runs,
      body.pending_runs,
      body.cancelled_runs,
    ]).toEqual([2010, 2010, 2010, 2010, 2010]);
    expect(body.runs.map((run) => run.id)).toEqual(newest(10_000));
    const withoutStep = body.runs.filter((run) => run.steps.length !== 1 || run.steps[0]?.run_id !== run.id);
    expect(withoutStep).toEqual([]);
    expect(body.runs.every((run) => run.steps[0]?.status === STEP_STATUS[run.status])).toBe(true);
  }, 120_000);
});
