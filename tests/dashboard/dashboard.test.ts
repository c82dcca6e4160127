/**
 * The specification of the two dashboards of a process: `GET /api/v1/dashboard/process/{process_id}`
 * (getProcessDashboard) and `GET /api/v1/dashboard/overview/{process_id}` (getProcessOverview).
 *
 * One server and one fixed set of runs for the whole file, made through the API (processes, steps, runs,
 * step-run reports, a run delete) with only what the API cannot set written through the ORM: exact
 * timestamps, rerun links and a soft-deleted step run. Every figure is computed by hand below.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Configuration, DashboardApi } from '../../generated/sdk/src/index.ts';
import { Process, ProcessRun, ProcessStepRun, type RunStatus } from '../../src/entities/index.ts';
import { startTestServer, type TestServer } from '../support/app.ts';
import type { Schemas } from '../../src/contract.ts';
import { recountRuns } from '../../src/db/run-counts.ts';

type DashboardBody = Schemas['ProcessDashboard'];
type OverviewBody = Schemas['ProcessOverview'];
type RunBody = Schemas['ProcessRun'];
type StepRunBody = Schemas['ProcessStepRun'];
type Problem = Schemas['Problem'];

/** The steps of "Borgerservice – flytning", by index. */
const STEPS = ['Hent flytteanmeldelse', 'Journalisér sag i ESDH', 'Opdater CPR-registret'] as const;
type Step = 0 | 1 | 2;
type Report = [Step, string] | ['rerun', Step, string] | ['delete', Step];

interface SeedRun {
  entity_name: string;
  /** Step-run reports in order; `rerun` adds a step run that reruns the step's current attempt. */
  reports: Report[];
  status: RunStatus;
  /** Percent of its current step runs that are success or optional, by hand. */
  success_rate: number;
  created_at: string;
  started_at?: string | null;
  finished_at?: string | null;
  /** Soft-deleted after it was made. */
  deleted?: boolean;
}

/**
 * The runs of "Borgerservice – flytning" (labels in creation order, so ids ascend in this order).
 * Durations of the completed runs with both times: jens 72 s, aase 49 h, mette 1000.7 s, karen 74 h;
 * niels has no started_at; the soft-deleted run (100 h) counts nowhere.
 */
const SEED = {
  jens: {
    entity_name: 'Jens Hansen',
    reports: [
      [0, 'success'],
      [1, 'success'],
      [2, 'success'],
    ],
    status: 'completed',
    success_rate: 100,
    created_at: '2026-01-05T10:00:00.000Z',
    started_at: '2026-01-05T10:00:00.000Z',
    finished_at: '2026-01-05T10:01:12.000Z',
  },
  aase: {
    entity_name: 'Åse Kjærgaard',
    reports: [
      [0, 'success'],
      [1, 'success'],
      [2, 'success'],
    ],
    status: 'completed',
    success_rate: 100,
    created_at: '2026-01-01T00:00:00.000Z',
    started_at: '2026-01-01T00:00:00.000Z',
    finished_at: '2026-01-03T01:00:00.000Z',
  },
  mette: {
    entity_name: 'Mette Frederiksen',
    reports: [
      [0, 'success'],
      [1, 'success'],
      [2, 'optional'],
    ],
    status: 'completed',
    success_rate: 100,
    created_at: '2026-01-06T08:00:00.000Z',
    started_at: '2026-01-06T08:00:00.000Z',
    finished_at: '2026-01-06T08:16:40.700Z',
  },
  karen: {
    entity_name: 'Karen Blixen',
    reports: [
      [0, 'success'],
      [1, 'success'],
      [2, 'success'],
    ],
    status: 'completed',
    success_rate: 100,
    created_at: '2026-01-02T07:00:00.000Z',
    started_at: '2026-01-02T07:00:00.000Z',
    finished_at: '2026-01-05T09:00:00.000Z',
  },
  niels: {
    entity_name: 'Niels Bohr',
    reports: [
      [0, 'success'],
      [1, 'success'],
      [2, 'success'],
    ],
    status: 'completed',
    success_rate: 100,
    created_at: '2026-01-06T09:00:00.000Z',
    started_at: null,
    finished_at: '2026-01-06T09:05:00.000Z',
  },
  ole: {
    entity_name: 'Ole Olsen',
    reports: [
      [0, 'success'],
      [1, 'success'],
      [2, 'failed'],
    ],
    status: 'failed',
    success_rate: 66.67,
    created_at: '2026-01-06T10:00:00.000Z',
  },
  bente: {
    entity_name: 'Bente Møller',
    reports: [[0, 'failed']],
    status: 'failed',
    success_rate: 0,
    created_at: '2026-01-06T10:00:00.000Z',
  },
  // Step 1 failed, its rerun failed again: the first attempt no longer counts (1 of 3, not 1 of 4).
  ib: {
    entity_name: 'Ib Sørensen',
    reports: [
      [0, 'success'],
      [1, 'failed'],
      ['rerun', 1, 'failed'],
    ],
    status: 'failed',
    success_rate: 33.33,
    created_at: '2026-01-07T08:00:00.000Z',
  },
  // Step 0 failed, its rerun succeeded: running again, 1 of 3 (the failed attempt is superseded).
  lars: {
    entity_name: 'Lars Løkke',
    reports: [
      [0, 'failed'],
      ['rerun', 0, 'success'],
    ],
    status: 'running',
    success_rate: 33.33,
    created_at: '2026-01-07T09:00:00.000Z',
  },
  aero: {
    entity_name: 'Ærø Østergård',
    reports: [[0, 'running']],
    status: 'running',
    success_rate: 0,
    created_at: '2026-01-07T10:00:00.000Z',
  },
  // Step 1 failed and that step run was soft-deleted, then step 2 reported running: 1 of 2.
  pia: {
    entity_name: 'Pia Kjærsgaard',
    reports: [
      [0, 'success'],
      [1, 'failed'],
      ['delete', 1],
      [2, 'running'],
    ],
    status: 'running',
    success_rate: 50,
    created_at: '2026-01-07T11:00:00.000Z',
  },
  freja: {
    entity_name: 'Freja Nielsen',
    reports: [],
    status: 'pending',
    success_rate: 0,
    created_at: '2026-01-08T08:00:00.000Z',
  },
  gorm: {
    entity_name: 'Gorm den Gamle',
    reports: [],
    status: 'pending',
    success_rate: 0,
    created_at: '2026-01-08T08:00:00.000Z',
  },
  hans: {
    entity_name: 'Hans Christian Andersen',
    reports: [
      [0, 'success'],
      [1, 'cancelled'],
    ],
    status: 'cancelled',
    success_rate: 33.33,
    created_at: '2026-01-04T12:00:00.000Z',
  },
  ida: {
    entity_name: 'Ida Jensen',
    reports: [[0, 'cancelled']],
    status: 'cancelled',
    success_rate: 0,
    created_at: '2026-01-03T12:00:00.000Z',
  },
  slettet: {
    entity_name: 'Slettet Borger',
    reports: [
      [0, 'success'],
      [1, 'success'],
      [2, 'success'],
    ],
    status: 'completed',
    success_rate: 100,
    created_at: '2026-01-09T08:00:00.000Z',
    started_at: '2026-01-09T08:00:00.000Z',
    finished_at: '2026-01-13T12:00:00.000Z',
    deleted: true,
  },
} satisfies Record<string, SeedRun>;
type Label = keyof typeof SEED;
const LABELS = Object.keys(SEED) as Label[];
const LIVE = LABELS.filter((label) => !(SEED[label] as SeedRun).deleted);

/** The figures of "Borgerservice – flytning", by hand. */
const FLYTNING = {
  total_runs: 15,
  completed_runs: 5,
  failed_runs: 3,
  running_runs: 3,
  pending_runs: 2,
  cancelled_runs: 2,
};
// (72 + 176400 + 1000.7 + 266400) / 4 = 110968.175 s → 110968 s = 30 h 49 min 28 s.
const FLYTNING_AVERAGE = '30:49:28';
// 5 of 15 completed.
const FLYTNING_SUCCESS_RATE = 33.33;

describe('the dashboards of a process', () => {
  let server: TestServer;
  let flytning = 0;
  let aktindsigt = 0;
  let venter = 0;
  let tom = 0;
  let nedlagt = 0;
  const stepIds: number[] = [];
  const runIds = {} as Record<Label, number>;
  /** Step runs that must not be shown: superseded attempts and the soft-deleted one. */
  const hiddenStepRunIds: number[] = [];

  const send = async <T>(method: string, path: string, body: unknown, status: number): Promise<T> => {
    const response = await server.request(path, {
      method,
      body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json' },
    });
    const text = await response.text();
    expect(response.status, `${method} ${path} ${JSON.stringify(body)}: ${text}`).toBe(status);
    return JSON.parse(text) as T;
  };
  const post = <T>(path: string, body: unknown) => send<T>('POST', path, body, 201);
  const report = (stepRunId: number, status: string) =>
    send<StepRunBody>('PATCH', `/api/v1/step-runs/${stepRunId}`, { status }, 200);
  const getJson = async <T>(path: string, key?: string): Promise<T> => {
    const response = await server.request(path, key === undefined ? {} : { headers: { 'X-API-Key': key } });
    const text = await response.text();
    expect(response.status, `${path}: ${text}`).toBe(200);
    return JSON.parse(text) as T;
  };
  const dashboard = (processId: number, query = '') =>
    getJson<DashboardBody>(`/api/v1/dashboard/process/${processId}${query}`);
  const overview = (processId: number, query = '') =>
    getJson<OverviewBody>(`/api/v1/dashboard/overview/${processId}${query}`);
  const expectProblem = async (response: Response, status: number): Promise<Problem> => {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await response.json()) as Problem;
    expect(problem.status).toBe(status);
    expect(problem.type).toMatch(/^https:\/\//);
    return problem;
  };
  const labelOf = (runId: number) => LIVE.find((label) => runIds[label] === runId) ?? `run ${runId}`;
  /** Live runs of "Borgerservice – flytning", newest first: created_at desc, then id desc. */
  const newestFirst = () =>
    [...LIVE].sort(
      (a, b) => Date.parse(SEED[b].created_at) - Date.parse(SEED[a].created_at) || runIds[b] - runIds[a],
    );

  /** A run of `processId` (steps in `steps`) moved by `reports`, with its times written as given. */
  const makeRun = async (processId: number, steps: readonly number[], label: string, seed: SeedRun) => {
    const em = server.container.orm.em.fork();
    const run = await post<RunBody>('/api/v1/runs', {
      process_id: processId,
      entity_id: `0101${String(steps.length)}${label}`.slice(0, 100),
      entity_name: seed.entity_name,
      meta: { kommune: 'Aarhus', sagsnummer: `S2026-${label}` },
    });
    const current = new Map(run.steps.map((stepRun) => [steps.indexOf(stepRun.step_id), stepRun.id]));
    for (const entry of seed.reports) {
      if (entry[0] === 'rerun') {
        const [, step, status] = entry;
        const previous = current.get(step) as number;
        const again = await post<StepRunBody>('/api/v1/step-runs', { run_id: run.id, step_id: steps[step] });
        await em.nativeUpdate(ProcessStepRun, { id: again.id }, { rerun_of: previous, rerun_count: 1 });
        hiddenStepRunIds.push(previous);
        current.set(step, again.id);
        await report(again.id, status);
      } else if (entry[0] === 'delete') {
        const stepRunId = current.get(entry[1]) as number;
        await em.nativeUpdate(ProcessStepRun, { id: stepRunId }, { deleted_at: new Date() });
        // Written to the run's row too, as every writer of a run's step runs does (`lockRun`): the server
        // derives the next report from the run as it last wrote it while the row is that version.
        await em.nativeUpdate(ProcessRun, { id: run.id }, { updated_at: new Date() });
        hiddenStepRunIds.push(stepRunId);
      } else {
        await report(current.get(entry[0]) as number, entry[1]);
      }
    }
    await em.nativeUpdate(
      ProcessRun,
      { id: run.id },
      {
        created_at: new Date(seed.created_at),
        ...(seed.started_at === undefined
          ? {}
          : { started_at: seed.started_at === null ? null : new Date(seed.started_at) }),
        ...(seed.finished_at === undefined
          ? {}
          : { finished_at: seed.finished_at === null ? null : new Date(seed.finished_at) }),
      },
    );
    // Times written behind the service's back: the durations beside the run counts follow, as `make
    // recount-runs` does.
    await recountRuns(em, processId);
    if (seed.deleted === true) {
      const response = await server.request(`/api/v1/runs/${run.id}`, { method: 'DELETE' });
      expect(response.status).toBe(204);
    }
    return run.id;
  };
  const makeProcess = async (name: string, steps: readonly string[]) => {
    const process = await post<{ id: number }>('/api/v1/processes', { name });
    const ids: number[] = [];
    for (const [index, stepName] of steps.entries()) {
      ids.push(
        (await post<{ id: number }>('/api/v1/steps', { process_id: process.id, index, name: stepName })).id,
      );
    }
    return { id: process.id, steps: ids };
  };
  const completedIn = (hours: number, seconds = 0): Partial<SeedRun> => ({
    started_at: '2026-02-01T00:00:00.000Z',
    finished_at: new Date(
      Date.parse('2026-02-01T00:00:00.000Z') + hours * 3_600_000 + seconds * 1000,
    ).toISOString(),
  });

  beforeAll(async () => {
    server = await startTestServer();
    const main = await makeProcess('Borgerservice – flytning', STEPS);
    flytning = main.id;
    stepIds.push(...main.steps);
    for (const label of LABELS) runIds[label] = await makeRun(flytning, main.steps, label, SEED[label]);

    // Another process: its runs count only on its own dashboards (two completed runs of 48 h and 50 h).
    const other = await makeProcess('Aktindsigt – journaludtræk', ['Udtræk journal']);
    aktindsigt = other.id;
    const done = { reports: [[0, 'success']] as Report[], status: 'completed' as const, success_rate: 100 };
    await makeRun(other.id, other.steps, 'x1', {
      ...done,
      entity_name: 'Søren Kierkegaard',
      created_at: '2026-01-10T08:00:00.000Z',
      ...completedIn(48),
    });
    await makeRun(other.id, other.steps, 'x2', {
      ...done,
      entity_name: 'Tove Ditlevsen',
      created_at: '2026-01-10T09:00:00.000Z',
      ...completedIn(50),
    });
    await makeRun(other.id, other.steps, 'x3', {
      reports: [[0, 'failed']],
      status: 'failed',
      success_rate: 0,
      entity_name: 'Villy Søvndal',
      created_at: '2026-01-10T10:00:00.000Z',
    });

    // A process whose runs are unfinished (no average), one without runs, and a soft-deleted one.
    const waiting = await makeProcess('Boligstøtte – ansøgning', ['Modtag ansøgning', 'Beregn støtte']);
    venter = waiting.id;
    await makeRun(waiting.id, waiting.steps, 'w1', {
      reports: [[0, 'running']],
      status: 'running',
      success_rate: 0,
      entity_name: 'Jytte Abildstrøm',
      created_at: '2026-01-11T08:00:00.000Z',
    });
    await makeRun(waiting.id, waiting.steps, 'w2', {
      reports: [],
      status: 'pending',
      success_rate: 0,
      entity_name: 'Dirch Passer',
      created_at: '2026-01-11T09:00:00.000Z',
    });
    tom = (await makeProcess('Aktindsigt – tom', ['Eneste trin'])).id;
    const gone = await makeProcess('Nedlagt proces', ['Trin']);
    nedlagt = gone.id;
    await makeRun(gone.id, gone.steps, 'n1', {
      reports: [],
      status: 'pending',
      success_rate: 0,
      entity_name: 'Poul Schlüter',
      created_at: '2026-01-12T08:00:00.000Z',
    });
    await server.container.orm.em.fork().nativeUpdate(Process, { id: gone.id }, { deleted_at: new Date() });

    // The seed is what the file assumes: the statuses the server derived from the reports.
    for (const label of LIVE) {
      const run = await getJson<RunBody>(`/api/v1/runs/${runIds[label]}`);
      expect(run.status, label).toBe(SEED[label].status);
      expect(run.created_at, label).toBe(SEED[label].created_at);
    }
  }, 120_000);
  afterAll(async () => {
    await server?.close();
  });

  describe('GET /api/v1/dashboard/process/{process_id} (getProcessDashboard)', () => {
    it('counts every live run of the process by status, with the average completion time and success rate', async () => {
      const body = await dashboard(flytning);
      expect(body.process).toEqual({ id: flytning, name: 'Borgerservice – flytning', total_steps: 3 });
      expect(body.statistics).toEqual({
        ...FLYTNING,
        average_completion_time: FLYTNING_AVERAGE,
        success_rate: FLYTNING_SUCCESS_RATE,
      });
    });

    it('lists the newest runs, created_at desc then id desc, each with its current step runs’ success rate', async () => {
      const body = await dashboard(flytning);
      expect(body.runs.map((run) => labelOf(run.id))).toEqual(newestFirst());
      // freja and gorm share created_at: the later id first.
      expect(newestFirst().slice(0, 2)).toEqual(['gorm', 'freja']);
      for (const run of body.runs) {
        const label = labelOf(run.id) as Label;
        expect(run, label).toEqual({
          id: runIds[label],
          entity_id: `01013${label}`,
          entity_name: SEED[label].entity_name,
          status: SEED[label].status,
          success_rate: SEED[label].success_rate,
          created_at: SEED[label].created_at,
        });
      }
    });

    it('agrees with GET /api/v1/runs for the process: the total, every status, and the order of the runs', async () => {
      const { statistics, runs } = await dashboard(flytning);
      const all = await getJson<{ total: number; items: RunBody[] }>(
        `/api/v1/runs?process_id=${flytning}&size=100`,
      );
      expect(all.total).toBe(statistics.total_runs);
      expect(runs.map((run) => run.id)).toEqual(all.items.map((run) => run.id));
      for (const status of ['completed', 'failed', 'running', 'pending', 'cancelled'] as const) {
        const page = await getJson<{ total: number }>(`/api/v1/runs?process_id=${flytning}&status=${status}`);
        expect(page.total, status).toBe(statistics[`${status}_runs`]);
      }
    });

    it('embeds at most runs_limit runs (the newest) while the statistics still cover all runs', async () => {
      const one = await dashboard(flytning, '?runs_limit=1');
      expect(one.runs.map((run) => labelOf(run.id))).toEqual(['gorm']);
      expect(one.statistics).toEqual((await dashboard(flytning)).statistics);
      const five = await dashboard(flytning, '?runs_limit=5');
      expect(five.runs.map((run) => labelOf(run.id))).toEqual(newestFirst().slice(0, 5));
      expect(five.runs.map((run) => run.success_rate)).toEqual(
        newestFirst()
          .slice(0, 5)
          .map((label) => SEED[label].success_rate),
      );
      const most = await dashboard(flytning, '?runs_limit=10000');
      expect(most.runs).toHaveLength(15);
    });

    it('answers 422 problem for a runs_limit beyond 10000, of 0, or not a number', async () => {
      for (const limit of ['10001', '0', 'mange']) {
        const response = await server.request(`/api/v1/dashboard/process/${flytning}?runs_limit=${limit}`);
        const problem = await expectProblem(response, 422);
        expect(JSON.stringify(problem.errors), limit).toMatch(/runs_limit/);
      }
    });

    it('shows another process with its own figures only (an average over 24 hours)', async () => {
      const body = await dashboard(aktindsigt);
      expect(body.process).toEqual({ id: aktindsigt, name: 'Aktindsigt – journaludtræk', total_steps: 1 });
      expect(body.statistics).toEqual({
        total_runs: 3,
        completed_runs: 2,
        failed_runs: 1,
        running_runs: 0,
        pending_runs: 0,
        cancelled_runs: 0,
        // (48 h + 50 h) / 2.
        average_completion_time: '49:00:00',
        success_rate: 66.67,
      });
      expect(body.runs.map((run) => [run.entity_name, run.status, run.success_rate])).toEqual([
        ['Villy Søvndal', 'failed', 0],
        ['Tove Ditlevsen', 'completed', 100],
        ['Søren Kierkegaard', 'completed', 100],
      ]);
    });

    it('has no average completion time when no run is completed, and zeros for a process without runs', async () => {
      const waiting = await dashboard(venter);
      expect(waiting.statistics).toEqual({
        total_runs: 2,
        completed_runs: 0,
        failed_runs: 0,
        running_runs: 1,
        pending_runs: 1,
        cancelled_runs: 0,
        average_completion_time: null,
        success_rate: 0,
      });
      expect(waiting.process.total_steps).toBe(2);
      expect(await dashboard(tom)).toEqual({
        process: { id: tom, name: 'Aktindsigt – tom', total_steps: 1 },
        runs: [],
        statistics: {
          total_runs: 0,
          completed_runs: 0,
          failed_runs: 0,
          running_runs: 0,
          pending_runs: 0,
          cancelled_runs: 0,
          average_completion_time: null,
          success_rate: 0,
        },
      });
    });

    it('answers 404 problem for an unknown and for a soft-deleted process', async () => {
      const unknown = await expectProblem(await server.request('/api/v1/dashboard/process/2147483647'), 404);
      expect(unknown.detail).toBe('Process 2147483647 not found');
      const deleted = await expectProblem(await server.request(`/api/v1/dashboard/process/${nedlagt}`), 404);
      expect(deleted.detail).toBe(`Process ${nedlagt} not found`);
    });

    it('is open to a user-role key (through the SDK)', async () => {
      const api = new DashboardApi(new Configuration({ basePath: server.baseUrl, apiKey: server.userKey }));
      const body = await api.getProcessDashboard({ process_id: flytning, runs_limit: 2 });
      expect(body.runs.map((run) => run.id)).toEqual(
        newestFirst()
          .slice(0, 2)
          .map((label) => runIds[label]),
      );
      expect(body.statistics.total_runs).toBe(15);
    });
  });

  describe('GET /api/v1/dashboard/overview/{process_id} (getProcessOverview)', () => {
    it('shows the process with its steps and the number of live runs per status', async () => {
      const body = await overview(flytning);
      expect(body.process).toEqual(await getJson(`/api/v1/processes/${flytning}`));
      expect(body.process.steps.map((step) => step.name)).toEqual([...STEPS]);
      expect(Object.keys(body).sort()).toEqual(['process', 'runs', ...Object.keys(FLYTNING)].sort());
      expect(body).toMatchObject(FLYTNING);
    });

    it('embeds the newest runs, each exactly as GET /api/v1/runs/{id} shows it (its current step runs)', async () => {
      const body = await overview(flytning);
      expect(body.runs.map((run) => labelOf(run.id))).toEqual(newestFirst());
      for (const run of body.runs) {
        expect(run, labelOf(run.id)).toEqual(await getJson(`/api/v1/runs/${run.id}`));
      }
      const shown = body.runs.flatMap((run) => run.steps.map((stepRun) => stepRun.id));
      expect(hiddenStepRunIds).toHaveLength(3);
      for (const hidden of hiddenStepRunIds) expect(shown).not.toContain(hidden);
    });

    it('shows a rerun instead of the attempt it superseded, and no soft-deleted step run', async () => {
      const body = await overview(flytning);
      const lars = body.runs.find((run) => run.id === runIds.lars) as RunBody;
      expect(lars.steps.map((stepRun) => [stepRun.step_index, stepRun.status, stepRun.rerun_count])).toEqual([
        [0, 'success', 1],
        [1, 'pending', 0],
        [2, 'pending', 0],
      ]);
      expect(lars.steps[0]?.rerun_of_id).toBe(hiddenStepRunIds[1]);
      const pia = body.runs.find((run) => run.id === runIds.pia) as RunBody;
      expect(pia.steps.map((stepRun) => [stepRun.step_index, stepRun.status])).toEqual([
        [0, 'success'],
        [2, 'running'],
      ]);
      expect(body.runs.map((run) => run.id)).not.toContain(runIds.slettet);
    });

    it('embeds at most runs_limit runs while the counts still cover all runs', async () => {
      const body = await overview(flytning, '?runs_limit=3');
      expect(body.runs.map((run) => labelOf(run.id))).toEqual(newestFirst().slice(0, 3));
      expect(body.total_runs).toBe(15);
      expect(body.completed_runs).toBe(5);
      await expectProblem(
        await server.request(`/api/v1/dashboard/overview/${flytning}?runs_limit=10001`),
        422,
      );
    });

    it('shows another process, a process without runs, and answers 404 for unknown and soft-deleted ones', async () => {
      const other = await overview(aktindsigt, '');
      expect([other.total_runs, other.completed_runs, other.failed_runs, other.runs.length]).toEqual([
        3, 2, 1, 3,
      ]);
      const empty = await overview(tom);
      expect(empty).toEqual({
        process: await getJson(`/api/v1/processes/${tom}`),
        runs: [],
        total_runs: 0,
        completed_runs: 0,
        failed_runs: 0,
        running_runs: 0,
        cancelled_runs: 0,
        pending_runs: 0,
      });
      await expectProblem(await server.request('/api/v1/dashboard/overview/2147483647'), 404);
      await expectProblem(await server.request(`/api/v1/dashboard/overview/${nedlagt}`), 404);
    });

    it('is open to a user-role key', async () => {
      const body = await getJson<OverviewBody>(`/api/v1/dashboard/overview/${venter}`, server.userKey);
      expect([body.running_runs, body.pending_runs, body.runs.length]).toEqual([1, 1, 2]);
    });
  });
});
