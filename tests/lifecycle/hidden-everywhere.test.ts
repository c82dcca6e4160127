/**
 * A soft-deleted item is invisible everywhere (deleteProcess, restoreProcess, deleteRun, restoreRun):
 * lists, GET by id (404), counts, dashboards, search, searchable fields and filter metadata, the
 * `Link` / `X-Total-*` figures, and as a parent (a run of a deleted process is hidden, and so is a step
 * run of a deleted run).
 *
 * The file walks every read (GET) operation of the bundled spec: `READ_CHECKS` maps each operationId to a
 * check that calls it for every seeded process, run and step run (and with the filters that would find
 * them) and asserts exactly what is visible in the current phase, computed from the seed below; a lookup
 * by id of a hidden item must answer 404. A GET operation of the spec that is neither checked nor listed
 * in `NOT_ABOUT_PROCESS_DATA` (with the reason) fails the first test, so a new read operation cannot slip
 * past this file.
 *
 * One server and one fixed set of processes, steps, runs and step runs, made through the API (runs,
 * step-run reports), with only what the API cannot set written through the ORM before anything is read:
 * exact run timestamps and past `scheduled_deletion_at` values (for the cleanup statistics). Every
 * visible item must read exactly as it read before anything was deleted (the JSON of GET before the
 * delete equals the JSON after the restore).
 *
 * The phases, in order (each followed by the walk of every read operation):
 *  0. nothing deleted (the walk proves every check sees the items while they are live);
 *     then: user keys get 403 for the four operations, unknown ids 404, restoring live items changes
 *     nothing;
 *  1. runs `gone` (failed, rerunnable step run) and `gone2` (completed, long) of process A deleted on their
 *     own, twice (204 both times);
 *  2. run `bpre` of process B deleted on its own, then process B deleted twice, then its already hidden
 *     run `b1` deleted (204, changes nothing); restoring `b1` or `b2` answers 409;
 *  3. process B restored (twice): exactly what its delete hid comes back, `bpre` stays deleted;
 *  4. runs `gone` and `gone2` restored (twice);
 *  5. run `bpre` restored: everything reads as at the start.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOperations, loadBundledSpec, type Schemas } from '../../src/contract.ts';
import { recountRuns } from '../../src/db/run-counts.ts';
import { ProcessRun, type RunStatus } from '../../src/entities/index.ts';
import { startTestServer, type TestServer } from '../support/app.ts';
import { expectPageHeaders } from '../support/pagination.ts';

type ProcessBody = Schemas['Process'];
type StepBody = Schemas['ProcessStep'];
type RunBody = Schemas['ProcessRun'];
type StepRunBody = Schemas['ProcessStepRun'];
type ProcessPage = Schemas['ProcessPage'];
type RunPage = Schemas['ProcessRunPage'];
type SearchPage = Schemas['RunSearchPage'];
type DashboardBody = Schemas['ProcessDashboard'];
type OverviewBody = Schemas['ProcessOverview'];
type SearchableFields = Schemas['SearchableFields'];
type FilterMetadata = Schemas['FilterMetadata'];
type CleanupStats = Schemas['CleanupStats'];
type Problem = Schemas['Problem'];

// ----- the seed -----

type ProcessLabel = 'A' | 'B' | 'C';
type StepLabel = 'A0' | 'A1' | 'A2' | 'B0' | 'B1' | 'C0';
const PROCESS_LABELS: readonly ProcessLabel[] = ['A', 'B', 'C'];

interface SeedProcess {
  name: string;
  meta: { run_metadata_schema?: Record<string, string> };
  /** The steps, by index: label, name, is_rerunnable. */
  steps: [StepLabel, string, boolean][];
}

/** Created in this order, so their ids ascend in this order. */
const PROCESSES: Record<ProcessLabel, SeedProcess> = {
  A: {
    name: 'Borgerservice – flytning',
    meta: { run_metadata_schema: { kommune: 'string', sag: 'string' } },
    steps: [
      ['A0', 'Hent flytteanmeldelse', false],
      ['A1', 'Journalisér sag i ESDH', true],
      ['A2', 'Opdater CPR-registret', true],
    ],
  },
  B: {
    name: 'Boligstøtte',
    meta: { run_metadata_schema: { kommune: 'string' } },
    steps: [
      ['B0', 'Modtag ansøgning', false],
      ['B1', 'Beregn støtte', true],
    ],
  },
  C: { name: 'Tom proces', meta: {}, steps: [['C0', 'Eneste trin', true]] },
};

interface SeedRun {
  process: ProcessLabel;
  entity_id: string;
  entity_name: string;
  meta: Record<string, string>;
  /** Step-run reports in order (PATCH /step-runs/{id}); the run's status derives from them. */
  reports: [StepLabel, 'success' | 'failed'][];
  status: RunStatus;
  created_at: string;
  /** Written through the ORM for the completed runs (the dashboards' average completion time). */
  started_at?: string;
  finished_at?: string;
  /** Written through the ORM: due for neutralisation (getCleanupStats). */
  scheduled_deletion_at?: string;
}

/**
 * Created in this order (ids ascend in this order); created_at ascends too, so the default order
 * (created_at desc, id desc) is the reverse. `gone`, `b1` and `keep1` share their entity_id; four names
 * contain "Hansen"; `gone`, `b1` and `keep2` failed at a rerunnable step.
 */
const RUNS = {
  keep1: {
    process: 'A',
    entity_id: 'E-100',
    entity_name: 'Jens Hansen',
    meta: { kommune: 'Aarhus', sag: 'S-1' },
    reports: [
      ['A0', 'success'],
      ['A1', 'success'],
      ['A2', 'success'],
    ],
    status: 'completed',
    created_at: '2026-01-01T08:00:00.000Z',
    started_at: '2026-01-01T08:00:00.000Z',
    finished_at: '2026-01-01T09:00:00.000Z', // 1 h
    scheduled_deletion_at: '2020-03-01T00:00:00.000Z',
  },
  keep2: {
    process: 'A',
    entity_id: 'E-200',
    entity_name: 'Maria Hansen',
    meta: { kommune: 'Odense', sag: 'S-2' },
    reports: [
      ['A0', 'success'],
      ['A1', 'failed'],
    ],
    status: 'failed',
    created_at: '2026-01-02T08:00:00.000Z',
  },
  keep3: {
    process: 'A',
    entity_id: 'E-300',
    entity_name: 'Åse Kjær',
    meta: { kommune: 'Aarhus' },
    reports: [],
    status: 'pending',
    created_at: '2026-01-03T08:00:00.000Z',
  },
  // Deleted on its own in phase 1: the only run with kommune Slettetby and sag S-GONE.
  gone: {
    process: 'A',
    entity_id: 'E-100',
    entity_name: 'Gunnar Hansen Slettet',
    meta: { kommune: 'Slettetby', sag: 'S-GONE' },
    reports: [
      ['A0', 'success'],
      ['A1', 'failed'],
    ],
    status: 'failed',
    created_at: '2026-01-04T08:00:00.000Z',
    scheduled_deletion_at: '2020-01-01T00:00:00.000Z',
  },
  // Deleted on its own in phase 1: completed in 100 h, which would change A's average completion time.
  gone2: {
    process: 'A',
    entity_id: 'E-400',
    entity_name: 'Gitte Skjult',
    meta: { kommune: 'Skjultby', sag: 'S-SKJULT' },
    reports: [
      ['A0', 'success'],
      ['A1', 'success'],
      ['A2', 'success'],
    ],
    status: 'completed',
    created_at: '2026-01-04T20:00:00.000Z',
    started_at: '2026-01-04T20:00:00.000Z',
    finished_at: '2026-01-09T00:00:00.000Z', // 100 h
  },
  b1: {
    process: 'B',
    entity_id: 'E-100',
    entity_name: 'Bo Hansen',
    meta: { kommune: 'Aarhus' },
    reports: [
      ['B0', 'success'],
      ['B1', 'failed'],
    ],
    status: 'failed',
    created_at: '2026-01-05T08:00:00.000Z',
    scheduled_deletion_at: '2020-02-01T00:00:00.000Z',
  },
  b2: {
    process: 'B',
    entity_id: 'E-500',
    entity_name: 'Bente Berg',
    meta: { kommune: 'Vejle' },
    reports: [
      ['B0', 'success'],
      ['B1', 'success'],
    ],
    status: 'completed',
    created_at: '2026-01-06T08:00:00.000Z',
    started_at: '2026-01-06T08:00:00.000Z',
    finished_at: '2026-01-06T10:00:00.000Z', // 2 h
  },
  // Deleted on its own in phase 2, BEFORE its process: the process restore must not bring it back.
  bpre: {
    process: 'B',
    entity_id: 'E-600',
    entity_name: 'Preben Slettet',
    meta: { kommune: 'Preby' },
    reports: [],
    status: 'pending',
    created_at: '2026-01-07T08:00:00.000Z',
    scheduled_deletion_at: '2019-12-01T00:00:00.000Z',
  },
} satisfies Record<string, SeedRun>;
type RunLabel = keyof typeof RUNS;
const RUN_LABELS = Object.keys(RUNS) as RunLabel[];
const seedOf = (label: RunLabel): SeedRun => RUNS[label];

/**
 * Read operations that show no process data (processes, steps, runs, step runs, or figures over them),
 * so there is nothing a soft delete could have to hide in them.
 */
const NOT_ABOUT_PROCESS_DATA: Record<string, string> = {
  getServiceInfo: 'name, version, environment and features of the service',
  getHealth: 'liveness and database check (status, version, uptime); no counts of anything',
  verifyApiKey: 'a summary of the calling API key',
  getCurrentApiKey: 'the details of the calling API key',
  getApiKeyUsageStats: "the calling key's request counts from the audit log, not process data",
  listApiKeys: 'API keys',
  getApiKey: 'one API key',
  listApiKeysAdminAlias: 'API keys (deprecated alias of listApiKeys)',
  listAuditLogs:
    'the trail of API requests, the deletes and restores themselves included: a record of what was asked, ' +
    'which a soft delete must not rewrite',
  listAuditLogUsers: 'X-User values of the audit trail',
  listAuditLogActions: 'X-Action values of the audit trail',
  getAuditLogStats: 'request statistics of the audit trail',
  listRerunJobs:
    'the rerun queue: ids, states and attempts of jobs, no process data; a job of a deleted run stays ' +
    'listed (cancelled, if it had not run) as the record of what was executed',
};

/**
 * The operations the repository records as still answering 501 (tests/fuzz/placeholders.test.ts keeps
 * this list equal to the placeholder handlers). A checked read operation may answer 501 only while it is
 * listed there; once it lands, its check is strict.
 */
const NOT_IMPLEMENTED_YET = new Set(
  readFileSync(join(import.meta.dirname, '../fuzz/not-implemented-yet.txt'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#')),
);

const UNKNOWN_ID = 2147483647;

// ----- the server, the ids, and what each item read before anything was deleted -----

let server: TestServer;
const processIds = {} as Record<ProcessLabel, number>;
const stepIds = {} as Record<StepLabel, number>;
const runIds = {} as Record<RunLabel, number>;
/** The step runs each run was created with, by step. */
const stepRunIds = {} as Record<RunLabel, Partial<Record<StepLabel, number>>>;

/** What every read answered before anything was deleted: each visible item must read the same again. */
const baseline = {
  process: {} as Record<ProcessLabel, ProcessBody>,
  steps: {} as Record<ProcessLabel, StepBody[]>,
  searchableFields: {} as Record<ProcessLabel, SearchableFields>,
  run: {} as Record<RunLabel, RunBody>,
  stepRun: {} as Record<number, StepRunBody>,
  runStepRuns: {} as Record<RunLabel, StepRunBody[]>,
  rerunnableRunStepRuns: {} as Record<RunLabel, StepRunBody[]>,
};

// ----- what is hidden now -----

const hiddenRuns = new Set<RunLabel>();
const hiddenProcesses = new Set<ProcessLabel>();
const setHidden = (processes: ProcessLabel[], runs: RunLabel[]) => {
  hiddenProcesses.clear();
  hiddenRuns.clear();
  for (const label of processes) hiddenProcesses.add(label);
  for (const label of runs) hiddenRuns.add(label);
};
const processHidden = (label: ProcessLabel) => hiddenProcesses.has(label);
/** A run is hidden when deleted itself or when its process is. */
const runHidden = (label: RunLabel) => hiddenRuns.has(label) || processHidden(seedOf(label).process);

const stepLabelsOf = (process: ProcessLabel): StepLabel[] => PROCESSES[process].steps.map(([label]) => label);
const liveProcesses = () => PROCESS_LABELS.filter((label) => !processHidden(label));
/** The visible runs matching `predicate`, in the default order (created_at desc, then id desc). */
const liveRuns = (predicate: (label: RunLabel, seed: SeedRun) => boolean = () => true): RunLabel[] =>
  RUN_LABELS.filter((label) => !runHidden(label) && predicate(label, seedOf(label))).sort(
    (a, b) => Date.parse(seedOf(b).created_at) - Date.parse(seedOf(a).created_at) || runIds[b] - runIds[a],
  );
/** Every step run of the seed: its run, its step and its id. */
const allStepRuns = () =>
  RUN_LABELS.flatMap((run) =>
    stepLabelsOf(seedOf(run).process).map((step) => ({ run, step, id: stepRunIds[run][step] as number })),
  );
const runLabelOf = (id: number): string => RUN_LABELS.find((label) => runIds[label] === id) ?? `run ${id}`;

// ----- requests -----

const query = (params: [string, string | number][]) =>
  params.length === 0
    ? ''
    : `?${new URLSearchParams(params.map(([name, value]) => [name, String(value)])).toString()}`;

async function send(
  method: string,
  path: string,
  key: string = server.adminKey,
): Promise<{ status: number; response: Response; text: string }> {
  const response = await server.request(path, { method, headers: { 'X-API-Key': key } });
  const text = await response.text();
  return { status: response.status, response, text };
}

/** GET `path` (admin key); the test fails unless it answers 200 JSON. */
async function read<T>(path: string): Promise<{ body: T; response: Response }> {
  const { status, response, text } = await send('GET', path);
  expect(status, `GET ${path}: ${text}`).toBe(200);
  return { body: JSON.parse(text) as T, response };
}

function expectProblem(
  answer: { status: number; response: Response; text: string },
  status: number,
  what: string,
) {
  expect(answer.status, `${what}: ${answer.text}`).toBe(status);
  expect(answer.response.headers.get('content-type'), what).toMatch(/^application\/problem\+json/);
  const problem = JSON.parse(answer.text) as Problem;
  expect(problem.status, what).toBe(status);
  return problem;
}

async function expectNotFound(path: string): Promise<void> {
  expectProblem(await send('GET', path), 404, `GET ${path}`);
}

/**
 * GET `path` of an item: while it is `hidden` the test fails unless that answers a 404 problem, and gives
 * undefined; else its 200 JSON body.
 */
async function readUnlessHidden<T>(path: string, hidden: boolean): Promise<T | undefined> {
  if (!hidden) return (await read<T>(path)).body;
  await expectNotFound(path);
  return undefined;
}

/** GET `path` of an item: a 404 problem while it is `hidden`, else exactly `expected` (what it read before). */
async function expectItem<T>(path: string, hidden: boolean, expected: T): Promise<void> {
  const body = await readUnlessHidden<T>(path, hidden);
  if (!hidden) expect(body, path).toEqual(expected);
}

/**
 * True when `operationId` answered 501 and the repository lists it as not implemented yet (then the
 * check has nothing more to prove); a 501 from any other operation fails.
 */
function notImplementedYet(operationId: string, answer: { status: number; text: string }): boolean {
  if (answer.status !== 501) return false;
  expect(NOT_IMPLEMENTED_YET.has(operationId), `${operationId} answered 501: ${answer.text}`).toBe(true);
  return true;
}

/** A page of a list with page/size, read page by page: the items of all pages and their headers. */
async function expectPaged<T extends { id: number }>(
  path: string,
  params: [string, string | number][],
  size: number,
  expected: T[],
) {
  const total = expected.length;
  const pages = Math.ceil(total / size);
  for (let page = 1; page <= Math.max(pages, 1) + 1; page++) {
    const target = path + query([...params, ['page', page], ['size', size]]);
    const { body, response } = await read<{
      items: T[];
      total: number;
      page: number;
      size: number;
      pages: number;
    }>(target);
    expect(
      body.items.map((item) => item.id),
      target,
    ).toEqual(expected.slice((page - 1) * size, page * size).map((item) => item.id));
    expect({ total: body.total, page: body.page, size: body.size, pages: body.pages }, target).toEqual({
      total,
      page,
      size,
      pages,
    });
    const link = expectPageHeaders(response, { page, size, total });
    if (page < pages)
      expect(link, target).toMatch(new RegExp(`[?&]page=${page + 1}&size=${size}[^>]*>; rel="next"`));
    else expect(link, target).not.toMatch(/rel="next"/);
  }
}

// ----- the expected figures -----

const sortedStrings = (values: Iterable<string>) => [...new Set(values)].sort();

function expectedStatistics(process: ProcessLabel) {
  const runs = liveRuns((_, seed) => seed.process === process).map(seedOf);
  const count = (status: RunStatus) => runs.filter((seed) => seed.status === status).length;
  const durations = runs
    .filter((seed) => seed.status === 'completed' && seed.started_at && seed.finished_at)
    .map((seed) => (Date.parse(seed.finished_at as string) - Date.parse(seed.started_at as string)) / 1000);
  let average: string | null = null;
  if (durations.length > 0) {
    const seconds = Math.floor(durations.reduce((sum, d) => sum + d, 0) / durations.length);
    const pad = (n: number) => String(n).padStart(2, '0');
    average = `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`;
  }
  return {
    counts: {
      total_runs: runs.length,
      completed_runs: count('completed'),
      failed_runs: count('failed'),
      running_runs: count('running'),
      pending_runs: count('pending'),
      cancelled_runs: count('cancelled'),
    },
    average_completion_time: average,
    success_rate: runs.length === 0 ? 0 : Math.round((count('completed') * 10000) / runs.length) / 100,
  };
}

/** Whether `q` matches the run as searchRuns defines it (entity_id, entity_name, status, declared meta). */
function searchMatches(q: string, seed: SeedRun, withMetaOf?: ProcessLabel): boolean {
  const texts = [seed.entity_id, seed.entity_name, seed.status];
  if (withMetaOf !== undefined) {
    for (const field of Object.keys(PROCESSES[withMetaOf].meta.run_metadata_schema ?? {})) {
      const value = seed.meta[field];
      if (value !== undefined) texts.push(value);
    }
  }
  return texts.some((text) => text.toLowerCase().includes(q.toLowerCase()));
}

// ----- one check per read operation of the spec -----

/** The listRuns requests: each with the runs it would find if nothing were hidden. */
function runQueries(): {
  params: [string, string | number][];
  matches: (label: RunLabel, seed: SeedRun) => boolean;
}[] {
  const failedAt = (step: StepLabel) => (_: RunLabel, seed: SeedRun) =>
    seed.reports.some(([reported, status]) => reported === step && status === 'failed');
  return [
    { params: [], matches: () => true },
    ...PROCESS_LABELS.map((process) => ({
      params: [['process_id', processIds[process]]] as [string, number][],
      matches: (_: RunLabel, seed: SeedRun) => seed.process === process,
    })),
    { params: [['status', 'failed']], matches: (_, seed) => seed.status === 'failed' },
    { params: [['status', 'pending']], matches: (_, seed) => seed.status === 'pending' },
    {
      params: [
        ['run_status', 'completed'],
        ['status', 'failed'],
      ],
      matches: (_, seed) => seed.status === 'completed' || seed.status === 'failed',
    },
    { params: [['entity_id', 'E-100']], matches: (_, seed) => seed.entity_id === 'E-100' },
    { params: [['entity_id', 'E-600']], matches: (_, seed) => seed.entity_id === 'E-600' },
    { params: [['entity_name', 'hansen']], matches: (_, seed) => /hansen/i.test(seed.entity_name) },
    { params: [['entity_name', 'slettet']], matches: (_, seed) => /slettet/i.test(seed.entity_name) },
    ...['Aarhus', 'Slettetby', 'Skjultby', 'Preby', 'Vejle'].map((kommune) => ({
      params: [['meta_filter', `kommune:${kommune}`]] as [string, string][],
      matches: (_: RunLabel, seed: SeedRun) => seed.meta['kommune'] === kommune,
    })),
    {
      params: [
        ['process_id', processIds.A],
        ['meta_filter', 'sag:S-GONE'],
        ['meta_filter', 'sag:S-1'],
      ],
      matches: (_, seed) =>
        seed.process === 'A' && (seed.meta['sag'] === 'S-GONE' || seed.meta['sag'] === 'S-1'),
    },
    { params: [['failed_at', stepIds.A1]], matches: failedAt('A1') },
    { params: [['failed_at', stepIds.B1]], matches: failedAt('B1') },
    {
      params: [
        ['created_after', '2026-01-04T00:00:00Z'],
        ['created_before', '2026-01-07T23:59:59Z'],
      ],
      matches: (_, seed) => seed.created_at >= '2026-01-04' && seed.created_at < '2026-01-08',
    },
    {
      params: [
        ['status', 'failed'],
        ['entity_id', 'E-100'],
        ['entity_name', 'hansen'],
      ],
      matches: (_, seed) => seed.status === 'failed' && seed.entity_id === 'E-100',
    },
  ];
}

const READ_CHECKS: Record<string, () => Promise<void>> = {
  async listProcesses() {
    const expected = liveProcesses().map((label) => baseline.process[label]);
    const { body, response } = await read<ProcessPage>('/api/v1/processes');
    expect(body.items).toEqual(expected);
    expect(body.total).toBe(expected.length);
    expectPageHeaders(response, { page: 1, size: 50, total: expected.length });
    await expectPaged('/api/v1/processes', [], 1, expected);
    await expectPaged('/api/v1/processes', [], 2, expected);
  },

  async getProcess() {
    for (const label of PROCESS_LABELS) {
      await expectItem(
        `/api/v1/processes/${processIds[label]}`,
        processHidden(label),
        baseline.process[label],
      );
    }
  },

  async listProcessSteps() {
    for (const label of PROCESS_LABELS) {
      const path = `/api/v1/steps/process/${processIds[label]}`;
      // Selected by process_id alone: a soft-deleted process gives an empty list (its steps are hidden).
      expect((await read<StepBody[]>(path)).body, path).toEqual(
        processHidden(label) ? [] : baseline.steps[label],
      );
    }
  },

  async listRerunnableProcessSteps() {
    for (const label of PROCESS_LABELS) {
      const path = `/api/v1/steps/process/${processIds[label]}/rerunnable`;
      const expected = processHidden(label) ? [] : baseline.steps[label].filter((step) => step.is_rerunnable);
      expect((await read<StepBody[]>(path)).body, path).toEqual(expected);
    }
  },

  async getProcessSearchableFields() {
    for (const label of PROCESS_LABELS) {
      await expectItem(
        `/api/v1/processes/${processIds[label]}/searchable-fields`,
        processHidden(label),
        baseline.searchableFields[label],
      );
    }
  },

  async getProcessFilterMetadata() {
    for (const label of PROCESS_LABELS) {
      const path = `/api/v1/processes/${processIds[label]}/filter-metadata`;
      const body = await readUnlessHidden<FilterMetadata>(path, processHidden(label));
      if (body === undefined) continue;
      const runs = liveRuns((_, seed) => seed.process === label).map(seedOf);
      const expected = Object.fromEntries(
        Object.keys(PROCESSES[label].meta.run_metadata_schema ?? {}).map((field) => [
          field,
          sortedStrings(runs.flatMap((seed) => (seed.meta[field] === undefined ? [] : [seed.meta[field]]))),
        ]),
      );
      // Only values of visible runs: Slettetby / S-GONE (gone), Skjultby (gone2), Preby (bpre) vanish.
      expect(body.metadata_filters, path).toEqual(expected);
      expect(body.process_id, path).toBe(processIds[label]);
      expect(body.searchable_fields, path).toEqual({
        standard_fields: baseline.searchableFields[label].standard_fields,
        metadata_fields: baseline.searchableFields[label].metadata_fields,
      });
    }
  },

  async listRuns() {
    for (const { params, matches } of runQueries()) {
      const target = `/api/v1/runs${query(params)}`;
      const expected = liveRuns(matches);
      const { body, response } = await read<RunPage>(target);
      expect(
        body.items.map((item) => runLabelOf(item.id)),
        target,
      ).toEqual(expected);
      expect(body.items, target).toEqual(expected.map((label) => baseline.run[label]));
      expect(body.total, target).toBe(expected.length);
      expectPageHeaders(response, { page: 1, size: 50, total: expected.length });
    }
    // Page by page: the Link and X-Total-* figures count only the visible runs.
    const all = liveRuns().map((label) => baseline.run[label]);
    await expectPaged('/api/v1/runs', [], 2, all);
    await expectPaged(
      '/api/v1/runs',
      [['entity_id', 'E-100']],
      1,
      liveRuns((_, seed) => seed.entity_id === 'E-100').map((label) => baseline.run[label]),
    );
    // Another order: ids ascending.
    const byId = `/api/v1/runs${query([
      ['order_by', 'id'],
      ['sort_direction', 'asc'],
    ])}`;
    expect(
      (await read<RunPage>(byId)).body.items.map((item) => item.id),
      byId,
    ).toEqual(
      liveRuns()
        .map((label) => runIds[label])
        .sort((a, b) => a - b),
    );
  },

  async searchRuns() {
    const searches: [string, ProcessLabel | undefined][] = [
      ['hansen', undefined],
      ['slettet', undefined],
      ['skjult', undefined],
      ['E-100', undefined],
      ['fail', undefined],
      ['preben', undefined],
      ['hansen', 'A'],
      ['slettet', 'A'],
      ['S-GONE', 'A'],
      ['skjultby', 'A'],
      ['aarhus', 'A'],
      ['aarhus', 'B'],
      ['preby', 'B'],
      ['e-', 'C'],
    ];
    for (const [q, process] of searches) {
      const params: [string, string | number][] = [['q', q]];
      if (process !== undefined) params.push(['process_id', processIds[process]]);
      const target = `/api/v1/runs/search${query(params)}`;
      if (process !== undefined && processHidden(process)) {
        // process_id must name a live process.
        await expectNotFound(target);
        continue;
      }
      const expected = liveRuns(
        (_, seed) => (process === undefined || seed.process === process) && searchMatches(q, seed, process),
      );
      const { body, response } = await read<SearchPage>(target);
      expect(
        body.items.map((item) => runLabelOf(item.id)),
        target,
      ).toEqual(expected);
      expect(
        body.items.map(({ matches: _matches, ...run }) => run),
        target,
      ).toEqual(expected.map((label) => baseline.run[label]));
      expect(body.total, target).toBe(expected.length);
      expectPageHeaders(response, { page: 1, size: 50, total: expected.length });
    }
    await expectPaged(
      '/api/v1/runs/search',
      [['q', 'hansen']],
      1,
      liveRuns((_, seed) => searchMatches('hansen', seed)).map((label) => baseline.run[label]),
    );
  },

  async getRun() {
    for (const label of RUN_LABELS) {
      await expectItem(`/api/v1/runs/${runIds[label]}`, runHidden(label), baseline.run[label]);
    }
  },

  async getStepRun() {
    for (const { run, id } of allStepRuns()) {
      await expectItem(`/api/v1/step-runs/${id}`, runHidden(run), baseline.stepRun[id]);
    }
  },

  async listStepRunReruns() {
    for (const { run, id } of allStepRuns()) {
      const path = `/api/v1/step-runs/${id}/reruns`;
      const answer = await send('GET', path);
      if (notImplementedYet('listStepRunReruns', answer)) return;
      if (runHidden(run)) {
        expectProblem(answer, 404, `GET ${path}`);
      } else {
        expect(answer.status, `GET ${path}: ${answer.text}`).toBe(200);
        // Never rerun: the chain is the step run alone.
        expect(JSON.parse(answer.text), path).toEqual([baseline.stepRun[id]]);
      }
    }
  },

  async listRunStepRuns() {
    for (const label of RUN_LABELS) {
      const path = `/api/v1/step-runs/run/${runIds[label]}`;
      // Selected by run_id alone: a hidden run gives an empty list.
      expect((await read<StepRunBody[]>(path)).body, path).toEqual(
        runHidden(label) ? [] : baseline.runStepRuns[label],
      );
    }
  },

  async getRunStepRunByStep() {
    for (const { run, step, id } of allStepRuns()) {
      await expectItem(
        `/api/v1/step-runs/run/${runIds[run]}/step/${stepIds[step]}`,
        runHidden(run),
        baseline.stepRun[id],
      );
    }
  },

  async listRerunnableRunStepRuns() {
    for (const label of RUN_LABELS) {
      const path = `/api/v1/step-runs/run/${runIds[label]}/rerunnable`;
      expect((await read<StepRunBody[]>(path)).body, path).toEqual(
        runHidden(label) ? [] : baseline.rerunnableRunStepRuns[label],
      );
    }
  },

  async getProcessDashboard() {
    for (const label of PROCESS_LABELS) {
      const path = `/api/v1/dashboard/process/${processIds[label]}`;
      const body = await readUnlessHidden<DashboardBody>(path, processHidden(label));
      if (body === undefined) continue;
      const { counts, average_completion_time, success_rate } = expectedStatistics(label);
      expect(body.process, path).toEqual({
        id: processIds[label],
        name: PROCESSES[label].name,
        total_steps: PROCESSES[label].steps.length,
      });
      expect(body.statistics, path).toEqual({ ...counts, average_completion_time, success_rate });
      expect(
        body.runs.map((run) => runLabelOf(run.id)),
        path,
      ).toEqual(liveRuns((_, seed) => seed.process === label));
      // With a small runs_limit the newest visible runs, the counts still over all of them.
      const limited = `${path}?runs_limit=1`;
      const small = (await read<DashboardBody>(limited)).body;
      expect(
        small.runs.map((run) => runLabelOf(run.id)),
        limited,
      ).toEqual(liveRuns((_, seed) => seed.process === label).slice(0, 1));
      expect(small.statistics, limited).toEqual(body.statistics);
    }
  },

  async getProcessOverview() {
    for (const label of PROCESS_LABELS) {
      const path = `/api/v1/dashboard/overview/${processIds[label]}`;
      const body = await readUnlessHidden<OverviewBody>(path, processHidden(label));
      if (body === undefined) continue;
      expect(body, path).toEqual({
        process: baseline.process[label],
        runs: liveRuns((_, seed) => seed.process === label).map((run) => baseline.run[run]),
        ...expectedStatistics(label).counts,
      });
    }
  },

  async getCleanupStats() {
    const path = '/api/v1/admin/cleanup/stats?limit=100';
    const answer = await send('GET', path);
    if (notImplementedYet('getCleanupStats', answer)) return;
    expect(answer.status, `GET ${path}: ${answer.text}`).toBe(200);
    // Hidden runs are not due: only visible runs whose scheduled_deletion_at has passed, due longest first.
    const due = liveRuns((_, seed) => seed.scheduled_deletion_at !== undefined).sort(
      (a, b) =>
        Date.parse(seedOf(a).scheduled_deletion_at as string) -
        Date.parse(seedOf(b).scheduled_deletion_at as string),
    );
    expect(JSON.parse(answer.text) as CleanupStats, path).toEqual({
      runs_due_for_neutralization: due.length,
      total_due_for_neutralization: due.length,
      sample_run_ids: due.map((label) => runIds[label]),
    });
  },
};

/** One test per read operation: it shows exactly what is visible in the current phase. */
function walkEveryReadOperation(): void {
  for (const [operationId, check] of Object.entries(READ_CHECKS)) {
    it(`${operationId} shows exactly the visible items`, check);
  }
}

// ----- the four operations -----

const deleteProcess = (label: ProcessLabel, key?: string) =>
  send('DELETE', `/api/v1/processes/${processIds[label]}`, key);
const restoreProcess = (label: ProcessLabel, key?: string) =>
  send('POST', `/api/v1/processes/${processIds[label]}/restore`, key);
const deleteRun = (label: RunLabel, key?: string) => send('DELETE', `/api/v1/runs/${runIds[label]}`, key);
const restoreRun = (label: RunLabel, key?: string) =>
  send('POST', `/api/v1/runs/${runIds[label]}/restore`, key);

function expectNoContent(answer: { status: number; text: string }, what: string) {
  expect(answer.status, `${what}: ${answer.text}`).toBe(204);
  expect(answer.text, what).toBe('');
}

function expectBody<T>(answer: { status: number; text: string }, status: number, what: string): T {
  expect(answer.status, `${what}: ${answer.text}`).toBe(status);
  return JSON.parse(answer.text) as T;
}

// ----- the tests -----

describe('a soft-deleted item is invisible everywhere', () => {
  beforeAll(async () => {
    server = await startTestServer();
    const post = <T>(path: string, body: unknown) => server.json<T>('POST', path, body, 201);
    for (const label of PROCESS_LABELS) {
      const seed = PROCESSES[label];
      processIds[label] = (
        await post<ProcessBody>('/api/v1/processes', { name: seed.name, meta: seed.meta })
      ).id;
      for (const [index, [step, name, isRerunnable]] of seed.steps.entries()) {
        stepIds[step] = (
          await post<StepBody>('/api/v1/steps', {
            process_id: processIds[label],
            index,
            name,
            is_rerunnable: isRerunnable,
            rerun_config: isRerunnable ? { max_retries: 2 } : {},
          })
        ).id;
      }
    }
    const stepLabel = (stepId: number) =>
      (Object.keys(stepIds) as StepLabel[]).find((label) => stepIds[label] === stepId) as StepLabel;

    const em = server.container.orm.em.fork();
    for (const label of RUN_LABELS) {
      const seed = seedOf(label);
      const created = await post<RunBody>('/api/v1/runs', {
        process_id: processIds[seed.process],
        entity_id: seed.entity_id,
        entity_name: seed.entity_name,
        meta: seed.meta,
      });
      runIds[label] = created.id;
      stepRunIds[label] = Object.fromEntries(
        created.steps.map((stepRun) => [stepLabel(stepRun.step_id), stepRun.id]),
      );
      for (const [step, status] of seed.reports) {
        await server.json('PATCH', `/api/v1/step-runs/${stepRunIds[label][step]}`, { status }, 200);
      }
      await em.nativeUpdate(
        ProcessRun,
        { id: created.id },
        {
          created_at: new Date(seed.created_at),
          ...(seed.started_at === undefined ? {} : { started_at: new Date(seed.started_at) }),
          ...(seed.finished_at === undefined ? {} : { finished_at: new Date(seed.finished_at) }),
          ...(seed.scheduled_deletion_at === undefined
            ? {}
            : { scheduled_deletion_at: new Date(seed.scheduled_deletion_at) }),
        },
      );
    }
    // Times written behind the service's back: the durations beside the run counts follow, as `make
    // recount-runs` does.
    await recountRuns(em);

    // What everything reads before anything is deleted.
    for (const label of PROCESS_LABELS) {
      const id = processIds[label];
      baseline.process[label] = (await read<ProcessBody>(`/api/v1/processes/${id}`)).body;
      baseline.steps[label] = (await read<StepBody[]>(`/api/v1/steps/process/${id}`)).body;
      baseline.searchableFields[label] = (
        await read<SearchableFields>(`/api/v1/processes/${id}/searchable-fields`)
      ).body;
    }
    for (const label of RUN_LABELS) {
      const id = runIds[label];
      baseline.run[label] = (await read<RunBody>(`/api/v1/runs/${id}`)).body;
      baseline.runStepRuns[label] = (await read<StepRunBody[]>(`/api/v1/step-runs/run/${id}`)).body;
      baseline.rerunnableRunStepRuns[label] = (
        await read<StepRunBody[]>(`/api/v1/step-runs/run/${id}/rerunnable`)
      ).body;
    }
    for (const { id } of allStepRuns()) {
      baseline.stepRun[id] = (await read<StepRunBody>(`/api/v1/step-runs/${id}`)).body;
    }
  });
  afterAll(async () => {
    await server?.close();
  });

  it('checks every read operation of the spec, or says why it shows no process data', () => {
    const reads = listOperations(loadBundledSpec())
      .filter((route) => route.method === 'get')
      .map((route) => route.operationId as string);
    const checked = Object.keys(READ_CHECKS);
    const exempt = Object.keys(NOT_ABOUT_PROCESS_DATA);
    const neither = reads.filter(
      (operationId) => !checked.includes(operationId) && !exempt.includes(operationId),
    );
    expect(neither, 'GET operations of the spec with no check in READ_CHECKS').toEqual([]);
    expect(
      checked.filter((operationId) => exempt.includes(operationId)),
      'checked and exempt',
    ).toEqual([]);
    expect(
      [...checked, ...exempt].filter((operationId) => !reads.includes(operationId)),
      'not a GET operation of the spec (stale)',
    ).toEqual([]);
    expect(reads.length).toBe(checked.length + exempt.length);
  });

  describe('0. nothing deleted', () => {
    beforeAll(() => setHidden([], []));

    it('the seed reads as intended (statuses, step runs, rerunnable step runs)', () => {
      for (const label of RUN_LABELS) {
        const seed = seedOf(label);
        const run = baseline.run[label];
        expect(run.status, label).toBe(seed.status);
        expect(run.process_id, label).toBe(processIds[seed.process]);
        expect(
          run.steps.map((stepRun) => stepRun.id),
          label,
        ).toEqual(stepLabelsOf(seed.process).map((step) => stepRunIds[label][step]));
        expect(baseline.runStepRuns[label], label).toEqual(run.steps);
        const failedRerunnable = seed.reports
          .filter(([step, status]) => status === 'failed' && (step === 'A1' || step === 'B1'))
          .map(([step]) => stepRunIds[label][step]);
        expect(
          baseline.rerunnableRunStepRuns[label].map((stepRun) => stepRun.id),
          label,
        ).toEqual(failedRerunnable);
      }
      for (const label of PROCESS_LABELS) {
        expect(baseline.steps[label], label).toEqual(baseline.process[label].steps);
        expect(baseline.steps[label].map((step) => step.id)).toEqual(
          stepLabelsOf(label).map((step) => stepIds[step]),
        );
      }
      expect(baseline.rerunnableRunStepRuns.gone).toHaveLength(1);
      expect(baseline.rerunnableRunStepRuns.b1).toHaveLength(1);
    });

    walkEveryReadOperation();
  });

  describe('who may delete and restore, unknown ids, restoring what is not deleted', () => {
    beforeAll(() => setHidden([], []));

    it('a user (non-admin) key gets 403 for all four, and nothing changes', async () => {
      const user = server.userKey;
      for (const [what, answer] of [
        ['deleteProcess', await deleteProcess('B', user)],
        ['restoreProcess', await restoreProcess('B', user)],
        ['deleteRun', await deleteRun('keep1', user)],
        ['restoreRun', await restoreRun('keep1', user)],
      ] as const) {
        expectProblem(answer, 403, `${what} with a user key`);
      }
      expect((await read<ProcessBody>(`/api/v1/processes/${processIds.B}`)).body).toEqual(baseline.process.B);
      expect((await read<RunBody>(`/api/v1/runs/${runIds.keep1}`)).body).toEqual(baseline.run.keep1);
    });

    it('unknown ids answer a 404 problem for all four', async () => {
      for (const [method, path] of [
        ['DELETE', `/api/v1/processes/${UNKNOWN_ID}`],
        ['POST', `/api/v1/processes/${UNKNOWN_ID}/restore`],
        ['DELETE', `/api/v1/runs/${UNKNOWN_ID}`],
        ['POST', `/api/v1/runs/${UNKNOWN_ID}/restore`],
      ] as const) {
        expectProblem(await send(method, path), 404, `${method} ${path}`);
      }
    });

    it('restoring a process that is not deleted answers 200 with it unchanged', async () => {
      for (const label of PROCESS_LABELS) {
        expect(expectBody<ProcessBody>(await restoreProcess(label), 200, `restore ${label}`)).toEqual(
          baseline.process[label],
        );
        const path = `/api/v1/processes/${processIds[label]}`;
        expect((await read<ProcessBody>(path)).body, path).toEqual(baseline.process[label]);
      }
    });

    it('restoring a run that is not deleted answers 200 with it unchanged', async () => {
      for (const label of ['keep1', 'keep2', 'b1'] as const) {
        expect(expectBody<RunBody>(await restoreRun(label), 200, `restore ${label}`)).toEqual(
          baseline.run[label],
        );
        const path = `/api/v1/runs/${runIds[label]}`;
        expect((await read<RunBody>(path)).body, path).toEqual(baseline.run[label]);
      }
    });
  });

  describe('1. two runs of A deleted on their own (their step runs hidden with them)', () => {
    beforeAll(() => setHidden([], ['gone', 'gone2']));

    it('DELETE answers 204, and 204 again for a run already deleted', async () => {
      expectNoContent(await deleteRun('gone'), 'delete gone');
      expectNoContent(await deleteRun('gone'), 'delete gone again');
      expectNoContent(await deleteRun('gone2'), 'delete gone2');
      expectNoContent(await deleteRun('gone2'), 'delete gone2 again');
    });

    walkEveryReadOperation();
  });

  describe('2. a run of B deleted on its own, then process B (its steps, runs and step runs hidden)', () => {
    beforeAll(() => setHidden(['B'], ['gone', 'gone2', 'bpre']));

    it('DELETE answers 204, and 204 again for a process or run already deleted', async () => {
      expectNoContent(await deleteRun('bpre'), 'delete bpre');
      expectNoContent(await deleteProcess('B'), 'delete B');
      expectNoContent(await deleteProcess('B'), 'delete B again');
      // Hidden with its process: 204, and nothing changes (the process restore brings it back).
      expectNoContent(await deleteRun('b1'), 'delete b1 (hidden with B)');
    });

    it('restoring a run whose process is deleted answers 409; a user key still gets 403', async () => {
      expectProblem(await restoreRun('b1'), 409, 'restore b1 while B is deleted');
      expectProblem(await restoreRun('b2'), 409, 'restore b2 while B is deleted');
      expectProblem(await restoreProcess('B', server.userKey), 403, 'restore B with a user key');
      expectProblem(await restoreRun('gone', server.userKey), 403, 'restore gone with a user key');
    });

    walkEveryReadOperation();
  });

  describe('3. process B restored: exactly what its delete hid comes back, not the run deleted before', () => {
    beforeAll(() => setHidden([], ['gone', 'gone2', 'bpre']));

    it('POST restore answers 200 with the process as it was, and again 200 unchanged', async () => {
      expect(expectBody<ProcessBody>(await restoreProcess('B'), 200, 'restore B')).toEqual(
        baseline.process.B,
      );
      expect(expectBody<ProcessBody>(await restoreProcess('B'), 200, 'restore B again')).toEqual(
        baseline.process.B,
      );
    });

    walkEveryReadOperation();
  });

  describe('4. the runs of A restored with their step runs', () => {
    beforeAll(() => setHidden([], ['bpre']));

    it('POST restore answers 200 with the run as it was, and again 200 unchanged', async () => {
      for (const label of ['gone', 'gone2'] as const) {
        expect(expectBody<RunBody>(await restoreRun(label), 200, `restore ${label}`)).toEqual(
          baseline.run[label],
        );
        expect(expectBody<RunBody>(await restoreRun(label), 200, `restore ${label} again`)).toEqual(
          baseline.run[label],
        );
      }
    });

    walkEveryReadOperation();
  });

  describe('5. the run deleted before its process restored on its own: everything reads as at the start', () => {
    beforeAll(() => setHidden([], []));

    it('POST restore answers 200 with the run as it was', async () => {
      expect(expectBody<RunBody>(await restoreRun('bpre'), 200, 'restore bpre')).toEqual(baseline.run.bpre);
    });

    walkEveryReadOperation();
  });
});
