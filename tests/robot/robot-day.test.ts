/**
 * A whole robot day through the generated TypeScript SDK — the same day tests/robot/robot_day.py drives
 * with the robots' own Python library (`make robot`), sending what that library sends: processes and
 * steps found by name in the lists, runs created with the CPR in `entity_id` and `meta.cpr`, a run found
 * with `meta_filter=cpr:<CPR>`, step runs found by run and step, and every status report a PATCH with
 * both timestamps, the failure (or null) and `rerun_config: {}`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Configuration,
  ProcessesApi,
  RunsApi,
  StepRunsApi,
  StepsApi,
  type ProcessRun,
  type ProcessStepRun,
  type StepRunUpdate,
  type StepRunUpdateStatusEnum,
} from '../../generated/sdk/src/index.ts';
import { startTestServer, type TestServer } from '../support/app.ts';

const PROCESS_NAME = 'Flytning af borgere – Århus Kommune (robotdag æøå)';
const STEP_NAMES = [
  'Hent oplysninger fra CPR',
  'Opret sag på borgeren i ESDH',
  'Send kvittering – Digital Post',
];
const RERUN_CONFIG = { max_retries: 2, subprocess_id: 'opret_sag_v2', note: 'Genkør ved fejl – Ærø' };
const CITIZENS = [
  { cpr: '0304871234', name: 'Søren Østergård Kjærgaard', kommune: 'Aarhus', sagsnummer: 'S2026-00101' },
  { cpr: '2708925678', name: 'Åse Bjørnø Lærkesen', kommune: 'Skanderborg', sagsnummer: 'S2026-00102' },
];
/** What the library's build_step_run_update sends for a raised BusinessError (details: str(traceback)). */
const FAILURE = {
  error_code: 'BusinessError',
  message: 'Borgeren er fraflyttet – sagen kunne ikke oprettes på Århus Rådhus, Sønder Allé 2 (æøå ÆØÅ)',
  details: '<traceback object at 0x7f3a2c1b9d80>',
};

describe('a robot day through the generated SDK', () => {
  let server: TestServer;
  let runs: RunsApi;
  let stepRuns: StepRunsApi;
  let robotProcesses: ProcessesApi;
  let robotSteps: StepsApi;
  let processId: number;
  let stepIds: number[];
  let dayStart: Date;
  const runIds: number[] = [];
  const stepRunIds: number[][] = [];
  /** Every update sent, by step run id (the last one wins). */
  const sent = new Map<number, StepRunUpdate>();

  /** The library's PATCH: both timestamps set to now, the failure or null, rerun_config {}. */
  const report = async (
    stepRunId: number,
    status: StepRunUpdateStatusEnum,
    failure: Record<string, unknown> | null = null,
  ): Promise<ProcessStepRun> => {
    const now = new Date();
    const update: StepRunUpdate = { status, started_at: now, finished_at: now, failure, rerun_config: {} };
    const answer = await stepRuns.updateStepRun({ step_run_id: stepRunId, StepRunUpdate: update });
    expect(answer.status).toBe(status);
    sent.set(stepRunId, update);
    return answer;
  };
  const runOf = (runId: number): Promise<ProcessRun> => runs.getRun({ run_id: runId });

  beforeAll(async () => {
    server = await startTestServer();
    dayStart = new Date(Date.now() - 1000);
    const admin = new Configuration({ basePath: server.baseUrl, apiKey: server.adminKey });
    const robot = new Configuration({ basePath: server.baseUrl, apiKey: server.userKey });
    runs = new RunsApi(robot);
    stepRuns = new StepRunsApi(robot);
    robotProcesses = new ProcessesApi(robot);
    robotSteps = new StepsApi(robot);
    // the administrator's set-up: a process with three steps, the second rerunnable
    const process = await new ProcessesApi(admin).createProcess({
      ProcessCreate: { name: PROCESS_NAME, meta: { department: 'Borgerservice' } },
    });
    const steps = new StepsApi(admin);
    stepIds = [];
    for (const [index, name] of STEP_NAMES.entries()) {
      const step = await steps.createStep({
        ProcessStepCreate: {
          process_id: process.id,
          index,
          name,
          ...(index === 1 ? { is_rerunnable: true, rerun_config: RERUN_CONFIG } : {}),
        },
      });
      stepIds.push(step.id);
    }
  });
  afterAll(async () => {
    await server?.close();
  });

  it('finds the process and its steps by name, as the library does', async () => {
    const page = await robotProcesses.listProcesses({ page: 1, size: 100 });
    const process = page.items.find((item) => item.name === PROCESS_NAME);
    expect(process).toBeDefined();
    processId = process!.id;
    expect(process!.steps.map((step) => [step.id, step.name])).toEqual(
      stepIds.map((id, i) => [id, STEP_NAMES[i]]),
    );
    const listed = await robotSteps.listProcessSteps({ process_id: processId });
    expect(listed.map((step) => step.name)).toEqual(STEP_NAMES);
    expect(listed.map((step) => step.id)).toEqual(stepIds);
  });

  it('starts a run for each citizen, with one pending step run per step', async () => {
    for (const citizen of CITIZENS) {
      const before = await runs.listRuns({ process_id: processId, meta_filter: [`cpr:${citizen.cpr}`] });
      expect(before.items).toEqual([]);
      const run = await runs.createRun({
        ProcessRunCreate: {
          entity_id: citizen.cpr,
          entity_name: citizen.name,
          meta: { ...citizen },
          process_id: processId,
        },
      });
      expect(run).toMatchObject({
        process_id: processId,
        entity_id: citizen.cpr,
        entity_name: citizen.name,
        meta: citizen,
        status: 'pending',
        started_at: null,
        finished_at: null,
      });
      expect(run.steps.map((step) => [step.step_id, step.status])).toEqual(
        stepIds.map((id) => [id, 'pending']),
      );
      runIds.push(run.id);
    }
    expect(new Set(runIds).size).toBe(2);
  });

  it('finds each run by CPR and each step run by run and step', async () => {
    for (const [i, citizen] of CITIZENS.entries()) {
      const found = await runs.listRuns({
        process_id: processId,
        meta_filter: [`cpr:${citizen.cpr}`],
        order_by: 'created_at',
        sort_direction: 'desc',
        page: 1,
        size: 100,
      });
      expect(found.items.map((run) => run.id)).toEqual([runIds[i]]);
      const byEntity = await runs.listRuns({ process_id: processId, entity_id: citizen.cpr });
      expect(byEntity.items.map((run) => run.id)).toEqual([runIds[i]]);
      const ids: number[] = [];
      for (const stepId of stepIds) {
        const stepRun = await stepRuns.getRunStepRunByStep({ run_id: runIds[i], step_id: stepId });
        expect(stepRun).toMatchObject({ run_id: runIds[i], step_id: stepId, status: 'pending' });
        ids.push(stepRun.id);
      }
      stepRunIds.push(ids);
      const listed = await stepRuns.listRunStepRuns({ run_id: runIds[i] });
      expect(listed.map((stepRun) => stepRun.id)).toEqual(ids);
    }
    const rerunnable = await stepRuns.getStepRun({ step_run_id: stepRunIds[0][1] });
    expect(rerunnable).toMatchObject({ can_rerun: true, rerun_config: RERUN_CONFIG });
    const newestFirst = await runs.listRuns({ process_id: processId });
    expect(newestFirst.items.map((run) => run.id)).toEqual([...runIds].reverse());
  });

  it('reports running then success for every step of run 1: the run is completed', async () => {
    for (const stepRunId of stepRunIds[0]) {
      await report(stepRunId, 'running');
      const running = await runOf(runIds[0]);
      expect(running.status).toBe('running');
      expect(running.started_at).toBeInstanceOf(Date);
      expect(running.finished_at).toBeNull();
      await report(stepRunId, 'success');
    }
    const run = await runOf(runIds[0]);
    expect(run.status).toBe('completed');
    expect(run.steps.map((step) => step.status)).toEqual(['success', 'success', 'success']);
  });

  it('reports a failure on step 2 of run 2: the run is failed and the failure round-trips', async () => {
    await report(stepRunIds[1][0], 'running');
    await report(stepRunIds[1][0], 'success');
    await report(stepRunIds[1][1], 'running');
    const answer = await report(stepRunIds[1][1], 'failed', FAILURE);
    expect(answer.failure).toEqual(FAILURE);
    const run = await runOf(runIds[1]);
    expect(run.status).toBe('failed');
    expect(run.steps.map((step) => step.status)).toEqual(['success', 'failed', 'pending']);
    const stored = await stepRuns.getStepRun({ step_run_id: stepRunIds[1][1] });
    expect(stored.failure).toEqual(FAILURE);
    expect(stored.can_rerun).toBe(true);
    const byStep = await stepRuns.getRunStepRunByStep({ run_id: runIds[1], step_id: stepIds[1] });
    expect(byStep.failure).toEqual(FAILURE);
  });

  it('ends the day with started_at and finished_at set and every report applied as sent', async () => {
    const dayEnd = new Date(Date.now() + 1000);
    const expected = ['completed', 'failed'];
    for (const [i, runId] of runIds.entries()) {
      const run = await runOf(runId);
      expect(run.status).toBe(expected[i]);
      expect(run.started_at).toBeInstanceOf(Date);
      expect(run.finished_at).toBeInstanceOf(Date);
      expect(run.started_at!.getTime()).toBeGreaterThanOrEqual(dayStart.getTime());
      expect(run.finished_at!.getTime()).toBeGreaterThanOrEqual(run.started_at!.getTime());
      expect(run.finished_at!.getTime()).toBeLessThanOrEqual(dayEnd.getTime());
      for (const step of run.steps) {
        const update = sent.get(step.id);
        if (update === undefined) {
          expect(step).toMatchObject({ status: 'pending', started_at: null, failure: null });
          continue;
        }
        expect(step.status).toBe(update.status);
        expect(step.started_at?.getTime()).toBe(update.started_at?.getTime());
        expect(step.finished_at?.getTime()).toBe(update.finished_at?.getTime());
        expect(step.failure).toEqual(update.failure);
        // the library sends rerun_config {} on every PATCH: it must not wipe the step's rerun target
        expect(step.rerun_config).toEqual(step.step_index === 1 ? RERUN_CONFIG : {});
      }
    }
    const failed = await runs.listRuns({ process_id: processId, run_status: ['failed'] });
    expect(failed.items.map((run) => run.id)).toEqual([runIds[1]]);
    expect(failed.items[0].steps[1].failure).toEqual(FAILURE);
    const completed = await runs.listRuns({ process_id: processId, status: ['completed'] });
    expect(completed.items.map((run) => run.id)).toEqual([runIds[0]]);
    const byName = await runs.listRuns({ process_id: processId, entity_name: 'åse bjørnø' });
    expect(byName.items.map((run) => run.id)).toEqual([runIds[1]]);
    const startedToday = await runs.listRuns({ process_id: processId, started_after: dayStart });
    expect(startedToday.items.map((run) => run.id).sort()).toEqual([...runIds].sort());
    const startedBefore = await runs.listRuns({ process_id: processId, started_before: dayStart });
    expect(startedBefore.items).toEqual([]);
  });
});
