/**
 * The specification of `GET /api/v1/runs` (listRuns, REQUIREMENTS §3 "Listing runs"), called as robots,
 * dashboards and hand-typed curl call it.
 *
 * One server, one database and one fixed set of runs for the whole file: fourteen runs, each with its own
 * shape (process, entity, name, status, metadata and timestamps), made through the API (runs, step-run
 * reports) with only what the API cannot set — exact timestamps, a rerun link, a soft-deleted step run —
 * written through the ORM. Every assertion names the exact runs expected, in the exact order.
 *
 * The server process runs in Europe/Copenhagen, as a Danish deployment would: offset-less timestamps
 * must still be read as UTC, whatever the server's own time zone.
 */
process.env['TZ'] = 'Europe/Copenhagen';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recountRuns } from '../../src/db/run-counts.ts';
import { ProcessRun, ProcessStepRun, type RunStatus } from '../../src/entities/index.ts';
import { startTestServer, type TestServer } from '../support/app.ts';
import { expectPageHeaders } from '../support/pagination.ts';
import { rawRequest } from '../support/raw-http.ts';
import type { Schemas } from '../../src/contract.ts';

type StepRunBody = Schemas['ProcessStepRun'];
type RunBody = Schemas['ProcessRun'];
type PageBody = Schemas['ProcessRunPage'];
type Problem = Schemas['Problem'];

/** Process P1 ("Flytning") has steps S1 (index 0) and S2 (index 1); P2 ("Boligstøtte") has T1. */
type ProcessName = 'P1' | 'P2';
type StepName = 'S1' | 'S2' | 'T1';

const LABELS = [
  'jens',
  'maria',
  'aero',
  'anne',
  'rabat',
  'kode',
  'kodex',
  'rerun',
  'softfail',
  'bo',
  'carla',
  'dorte',
  'elin',
  'frode',
] as const;
type Label = (typeof LABELS)[number];

interface SeedRun {
  process: ProcessName;
  entity_id: string;
  entity_name: string | null;
  meta: Record<string, unknown>;
  /** Step-run reports sent through PATCH /step-runs/{id}, in order (the run's status derives from them). */
  reports: [StepName, string][];
  /** The status the reports lead to. */
  status: RunStatus;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
}

/**
 * The runs, created in this order (so their ids ascend in this order). created_at is deliberately not in
 * id order; anne and rabat share their created_at.
 */
const SEED: Record<Label, SeedRun> = {
  jens: {
    process: 'P1',
    entity_id: '0101901234',
    entity_name: 'Jens Hansen',
    meta: { kommune: 'Aarhus', department: 'Sales', email: 'jens@aarhus.dk', n: 5, flag: true },
    reports: [
      ['S1', 'success'],
      ['S2', 'failed'],
    ],
    status: 'failed',
    created_at: '2026-01-01T08:00:00.000Z',
    started_at: '2026-01-01T08:00:05.000Z',
    finished_at: '2026-01-01T08:10:00.000Z',
  },
  maria: {
    process: 'P1',
    entity_id: '0202802345',
    entity_name: 'MARIA HANSEN',
    meta: { kommune: 'Odense', department: 'Sales', n: 10, flag: false },
    reports: [
      ['S1', 'success'],
      ['S2', 'success'],
    ],
    status: 'completed',
    created_at: '2026-01-02T08:00:00.000Z',
    started_at: '2026-01-02T08:00:05.123Z',
    finished_at: '2026-01-02T09:00:00.000Z',
  },
  aero: {
    process: 'P1',
    entity_id: '0303703456',
    entity_name: 'Ærø Østergård',
    meta: { kommune: 'Aarhus', department: 'HR', by: 'Aarhus Ø', område: 'Østjylland', n: '5' },
    reports: [['S1', 'running']],
    status: 'running',
    created_at: '2026-01-03T00:00:00.000Z',
    started_at: '2026-01-03T00:00:01.000Z',
    finished_at: null,
  },
  anne: {
    process: 'P1',
    entity_id: '0101901234',
    entity_name: 'Anne Jensen',
    meta: { kommune: 'Vejle', company: 'Acme, Inc', url: 'https://x/y' },
    reports: [],
    status: 'pending',
    created_at: '2026-01-04T12:00:00.000Z',
    started_at: null,
    finished_at: null,
  },
  rabat: {
    process: 'P1',
    entity_id: '01019012345',
    entity_name: 'Rabat 100%',
    meta: { company: 'Acme', mood: 'glad 😀', n: 2 },
    reports: [['S1', 'cancelled']],
    status: 'cancelled',
    created_at: '2026-01-04T12:00:00.000Z',
    started_at: '2026-01-04T12:00:02.000Z',
    finished_at: '2026-01-04T12:05:00.000Z',
  },
  kode: {
    process: 'P1',
    entity_id: '0404604567',
    entity_name: 'kode_A1',
    meta: { company: 'Acme, Inc.', url: 'https://x/y/z' },
    reports: [['S1', 'failed']],
    status: 'failed',
    created_at: '2026-01-05T09:00:00.000Z',
    started_at: '2026-01-05T09:00:01.000Z',
    finished_at: '2026-01-05T09:00:30.000Z',
  },
  kodex: {
    process: 'P1',
    entity_id: '0505505678',
    entity_name: 'kodeXA1',
    meta: {},
    reports: [
      ['S1', 'success'],
      ['S2', 'success'],
    ],
    status: 'completed',
    created_at: '2026-01-05T10:00:00.000Z',
    started_at: '2026-01-05T10:00:01.000Z',
    finished_at: '2026-01-05T10:30:00.000Z',
  },
  // S1 failed, then was rerun (a step run with rerun_of = the failed one) successfully: running again.
  rerun: {
    process: 'P1',
    entity_id: '0606406789',
    entity_name: null,
    meta: { kommune: 'Aarhus' },
    reports: [['S1', 'failed']],
    status: 'running',
    created_at: '2026-01-06T08:00:00.000Z',
    started_at: '2026-01-06T08:00:01.000Z',
    finished_at: null,
  },
  // S1 failed, then that step run was soft-deleted and S2 reported running.
  softfail: {
    process: 'P1',
    entity_id: '0707307890',
    entity_name: 'Hej! Med dig',
    meta: {},
    reports: [['S1', 'failed']],
    status: 'running',
    created_at: '2026-01-06T09:00:00.000Z',
    started_at: '2026-01-06T09:00:01.000Z',
    finished_at: null,
  },
  bo: {
    process: 'P2',
    entity_id: '1001001001',
    entity_name: 'Bo Berg',
    meta: { kommune: 'Aarhus', department: 'Sales' },
    reports: [['T1', 'failed']],
    status: 'failed',
    created_at: '2025-12-30T08:00:00.000Z',
    started_at: '2025-12-30T08:00:01.000Z',
    finished_at: '2025-12-30T08:01:00.000Z',
  },
  carla: {
    process: 'P2',
    entity_id: '1101101101',
    entity_name: 'Carla Dam',
    meta: { kommune: 'Odense' },
    reports: [['T1', 'success']],
    status: 'completed',
    created_at: '2026-01-08T08:00:00.000Z',
    started_at: '2026-01-08T08:00:01.000Z',
    finished_at: '2026-01-08T08:20:00.000Z',
  },
  dorte: {
    process: 'P2',
    entity_id: '1201201201',
    entity_name: null,
    meta: { emoji: '🤖' },
    reports: [],
    status: 'pending',
    created_at: '2026-01-02T12:00:00.000Z',
    started_at: null,
    finished_at: null,
  },
  elin: {
    process: 'P2',
    entity_id: '1301301301',
    entity_name: 'Asta Holm',
    meta: {},
    reports: [],
    status: 'pending',
    created_at: '2026-01-07T12:00:00.000Z',
    started_at: null,
    finished_at: null,
  },
  frode: {
    process: 'P2',
    entity_id: '1401401401',
    entity_name: null,
    meta: { kommune: 'Vejle' },
    reports: [['T1', 'failed']],
    status: 'failed',
    created_at: '2026-01-07T08:00:00.000Z',
    started_at: '2026-01-07T08:00:01.000Z',
    finished_at: '2026-01-07T08:01:00.000Z',
  },
};

/** updated_at of every run: its last change (finished, else started, else created) plus one second. */
const updatedAt = (seed: SeedRun) =>
  new Date(Date.parse(seed.finished_at ?? seed.started_at ?? seed.created_at) + 1000).toISOString();

const ORDER_COLUMNS = [
  'id',
  'process_id',
  'entity_id',
  'entity_name',
  'status',
  'started_at',
  'finished_at',
  'created_at',
  'updated_at',
] as const;
type OrderColumn = (typeof ORDER_COLUMNS)[number] | `meta.${string}`;
type Direction = 'asc' | 'desc';
type Query = [string, string | number][];

describe('GET /api/v1/runs (listRuns)', () => {
  let server: TestServer;
  const processIds = {} as Record<ProcessName, number>;
  const stepIds = {} as Record<StepName, number>;
  const runIds = {} as Record<Label, number>;
  /** The step runs each run was created with, by step. */
  const stepRunIds = {} as Record<Label, Partial<Record<StepName, number>>>;
  /** The rerun of rerun's S1. */
  let rerunStepRunId = 0;

  const id = (label: Label) => runIds[label];
  const labelOf = (runId: number): string =>
    LABELS.find((label) => runIds[label] === runId) ?? `unknown run ${runId}`;

  const post = <T>(path: string, body: unknown): Promise<T> => server.json<T>('POST', path, body, 201);
  const report = async (stepRunId: number, status: string) => {
    const response = await server.request(`/api/v1/step-runs/${stepRunId}`, {
      method: 'PATCH',
      body: JSON.stringify({ status }),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(response.status, `PATCH step run ${stepRunId} ${status}`).toBe(200);
  };

  /** `?a=1&b=2` with every value form-encoded, as URLSearchParams (browsers, Python requests) write it. */
  const search = (query: Query) =>
    query.length === 0
      ? ''
      : `?${new URLSearchParams(query.map(([name, value]) => [name, String(value)])).toString()}`;
  const get = (query: Query) => server.request(`/api/v1/runs${search(query)}`);
  const page = async (query: Query): Promise<PageBody> => {
    const response = await get(query);
    expect(response.status, `${search(query)}: ${response.status}`).toBe(200);
    return (await response.json()) as PageBody;
  };
  const labelsOf = (body: PageBody) => body.items.map((item) => labelOf(item.id));

  // ----- the model of the seeded runs, for expected orders -----

  /** A run-meta value as text, as the server compares and sorts it (undefined: the field is missing). */
  const metaText = (value: unknown): string | null =>
    value === undefined || value === null ? null : typeof value === 'string' ? value : JSON.stringify(value);
  const sortKey = (label: Label, column: OrderColumn): string | number | null => {
    const seed = SEED[label];
    if (column.startsWith('meta.')) return metaText(seed.meta[column.slice('meta.'.length)]);
    const time = (value: string | null) => (value === null ? null : Date.parse(value));
    switch (column) {
      case 'id':
        return id(label);
      case 'process_id':
        return processIds[seed.process];
      case 'entity_id':
        return seed.entity_id;
      case 'entity_name':
        return seed.entity_name;
      case 'status':
        return seed.status;
      case 'started_at':
        return time(seed.started_at);
      case 'finished_at':
        return time(seed.finished_at);
      case 'created_at':
        return time(seed.created_at);
      case 'updated_at':
        return Date.parse(updatedAt(seed));
      default:
        throw new Error(`no column ${column}`);
    }
  };
  /** The labels sorted as the contract says: by the column (nulls last), then id, both in `direction`. */
  const sorted = (labels: readonly Label[], column: OrderColumn, direction: Direction): Label[] => {
    const sign = direction === 'asc' ? 1 : -1;
    return [...labels].sort((a, b) => {
      const [ka, kb] = [sortKey(a, column), sortKey(b, column)];
      if (ka === null && kb !== null) return 1;
      if (kb === null && ka !== null) return -1;
      if (ka !== null && kb !== null && ka !== kb) return (ka < kb ? -1 : 1) * sign;
      return (id(a) - id(b)) * sign;
    });
  };
  /** The default order: created_at desc, then id desc. */
  const byDefault = (labels: readonly Label[]) => sorted(labels, 'created_at', 'desc');

  /** The request answers exactly these runs, in the default order, all on page 1. */
  const expectRuns = async (query: Query, labels: readonly Label[]) => {
    const body = await page(query);
    expect(labelsOf(body), search(query)).toEqual(byDefault(labels));
    expect(body.total, search(query)).toBe(labels.length);
  };
  const expectProblem = async (response: Response, statuses: number[]): Promise<Problem> => {
    expect(statuses).toContain(response.status);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const problem = (await response.json()) as Problem;
    expect(problem.status).toBe(response.status);
    expect(problem.type).toMatch(/^https:\/\//);
    expect(problem.title).not.toBe('');
    return problem;
  };

  beforeAll(async () => {
    server = await startTestServer();
    const flytning = await post<{ id: number }>('/api/v1/processes', { name: 'Flytning' });
    const bolig = await post<{ id: number }>('/api/v1/processes', { name: 'Boligstøtte' });
    processIds.P1 = flytning.id;
    processIds.P2 = bolig.id;
    for (const [name, processId, index] of [
      ['S1', flytning.id, 0],
      ['S2', flytning.id, 1],
      ['T1', bolig.id, 0],
    ] as const) {
      stepIds[name] = (
        await post<{ id: number }>('/api/v1/steps', {
          process_id: processId,
          index,
          name: `Trin ${name}`,
          is_rerunnable: true,
        })
      ).id;
    }
    const stepName = (stepId: number) =>
      (Object.keys(stepIds) as StepName[]).find((name) => stepIds[name] === stepId) as StepName;

    const em = server.container.orm.em.fork();
    for (const label of LABELS) {
      const seed = SEED[label];
      const created = await post<RunBody>('/api/v1/runs', {
        process_id: processIds[seed.process],
        entity_id: seed.entity_id,
        ...(seed.entity_name === null ? {} : { entity_name: seed.entity_name }),
        meta: seed.meta,
      });
      runIds[label] = created.id;
      stepRunIds[label] = Object.fromEntries(
        created.steps.map((stepRun) => [stepName(stepRun.step_id), stepRun.id]),
      );
      for (const [step, status] of seed.reports) await report(stepRunIds[label][step] as number, status);

      if (label === 'rerun') {
        // A rerun of the failed S1 (the rerun operation comes later): a new step run marked as its rerun.
        const again = await post<StepRunBody>('/api/v1/step-runs', {
          run_id: created.id,
          step_id: stepIds.S1,
        });
        await em.nativeUpdate(
          ProcessStepRun,
          { id: again.id },
          { rerun_of: stepRunIds.rerun.S1, rerun_count: 1 },
        );
        rerunStepRunId = again.id;
        await report(again.id, 'success');
      }
      if (label === 'softfail') {
        await em.nativeUpdate(ProcessStepRun, { id: stepRunIds.softfail.S1 }, { deleted_at: new Date() });
        // Written to the run's row too, as every writer of a run's step runs does (`lockRun`): the server
        // derives the next report from the run as it last wrote it while the row is that version.
        await em.nativeUpdate(ProcessRun, { id: created.id }, { updated_at: new Date() });
        await report(stepRunIds.softfail.S2 as number, 'running');
      }
      await em.nativeUpdate(
        ProcessRun,
        { id: created.id },
        {
          created_at: new Date(seed.created_at),
          started_at: seed.started_at === null ? null : new Date(seed.started_at),
          finished_at: seed.finished_at === null ? null : new Date(seed.finished_at),
          updated_at: new Date(updatedAt(seed)),
        },
      );
    }
    // Times written behind the service's back: the durations beside the run counts follow, as `make
    // recount-runs` does.
    await recountRuns(em);

    // The seed is what the file assumes: statuses derived by the server, timestamps as written.
    const all = await page([['size', 100]]);
    expect(all.total).toBe(LABELS.length);
    for (const item of all.items) {
      const seed = SEED[labelOf(item.id) as Label];
      expect(item, labelOf(item.id)).toMatchObject({
        process_id: processIds[seed.process],
        entity_id: seed.entity_id,
        entity_name: seed.entity_name,
        status: seed.status,
        meta: seed.meta,
        created_at: seed.created_at,
        started_at: seed.started_at,
        finished_at: seed.finished_at,
        updated_at: updatedAt(seed),
      });
    }
  });
  afterAll(async () => {
    await server?.close();
  });

  it('runs its server in a time zone other than UTC (so "offset-less means UTC" is really tested)', () => {
    expect(new Date('2026-01-05T12:00:00Z').getTimezoneOffset()).toBe(-60);
  });

  describe('without parameters', () => {
    it('answers every run, newest created first (created_at desc, id desc on ties), on page 1 of 50', async () => {
      const response = await get([]);
      expect(response.status).toBe(200);
      const body = (await response.json()) as PageBody;
      expect(labelsOf(body)).toEqual([
        'carla',
        'elin',
        'frode',
        'softfail',
        'rerun',
        'kodex',
        'kode',
        'rabat',
        'anne',
        'aero',
        'dorte',
        'maria',
        'jens',
        'bo',
      ]);
      expect(body).toMatchObject({ total: 14, page: 1, size: 50, pages: 1 });
      expectPageHeaders(response, { page: 1, size: 50, total: 14 });
    });

    it('includes each run’s current step runs by step_index: a rerun replaces its attempt, a soft-deleted one is gone', async () => {
      const body = await page([['size', 100]]);
      const steps = (label: Label) =>
        body.items
          .find((item) => item.id === id(label))
          ?.steps.map((stepRun) => [stepRun.id, stepRun.step_id, stepRun.status]);
      expect(steps('jens')).toEqual([
        [stepRunIds.jens.S1, stepIds.S1, 'success'],
        [stepRunIds.jens.S2, stepIds.S2, 'failed'],
      ]);
      expect(steps('rerun')).toEqual([
        [rerunStepRunId, stepIds.S1, 'success'],
        [stepRunIds.rerun.S2, stepIds.S2, 'pending'],
      ]);
      expect(steps('softfail')).toEqual([[stepRunIds.softfail.S2, stepIds.S2, 'running']]);
      expect(steps('bo')).toEqual([[stepRunIds.bo.T1, stepIds.T1, 'failed']]);
    });

    it('answers a user (robot) key as well as an admin key', async () => {
      const response = await server.request('/api/v1/runs', { headers: { 'X-API-Key': server.userKey } });
      expect(response.status).toBe(200);
      expect(((await response.json()) as PageBody).total).toBe(14);
    });
  });

  describe('filters, each alone', () => {
    it('process_id: only the runs of that process; an unknown process has none', async () => {
      await expectRuns([['process_id', processIds.P2]], ['bo', 'carla', 'dorte', 'elin', 'frode']);
      await expectRuns(
        [['process_id', processIds.P1]],
        ['jens', 'maria', 'aero', 'anne', 'rabat', 'kode', 'kodex', 'rerun', 'softfail'],
      );
      await expectRuns([['process_id', 2147483647]], []);
    });

    it('entity_id: exact match only (no prefix, no contains)', async () => {
      await expectRuns([['entity_id', '0101901234']], ['jens', 'anne']);
      await expectRuns([['entity_id', '01019012345']], ['rabat']);
      await expectRuns([['entity_id', '010190123']], []);
      await expectRuns([['entity_id', '1901234']], []);
    });

    it('entity_name: case-insensitive contains, in both directions of case', async () => {
      await expectRuns([['entity_name', 'hansen']], ['jens', 'maria']);
      await expectRuns([['entity_name', 'HANSEN']], ['jens', 'maria']);
      await expectRuns([['entity_name', 'jens']], ['jens', 'anne']);
      await expectRuns([['entity_name', 'Ria h']], ['maria']);
      await expectRuns([['entity_name', 'ingen sådan']], []);
    });

    it('entity_name: Danish letters are matched case-insensitively (ærø finds Ærø Østergård)', async () => {
      await expectRuns([['entity_name', 'ærø']], ['aero']);
      await expectRuns([['entity_name', 'ØSTERGÅRD']], ['aero']);
      await expectRuns([['entity_name', 'Ærø Østergård']], ['aero']);
    });

    it('entity_name: %, _ and the escape character ! in the search text are literal', async () => {
      await expectRuns([['entity_name', '%']], ['rabat']);
      await expectRuns([['entity_name', '100%']], ['rabat']);
      await expectRuns([['entity_name', '_']], ['kode']);
      await expectRuns([['entity_name', 'kode_a']], ['kode']);
      await expectRuns([['entity_name', '!']], ['softfail']);
      await expectRuns([['entity_name', '!_']], []);
    });

    it('status: one value', async () => {
      await expectRuns([['status', 'failed']], ['jens', 'kode', 'bo', 'frode']);
      await expectRuns([['status', 'running']], ['aero', 'rerun', 'softfail']);
      await expectRuns([['status', 'completed']], ['maria', 'kodex', 'carla']);
      await expectRuns([['status', 'pending']], ['anne', 'dorte', 'elin']);
      await expectRuns([['status', 'cancelled']], ['rabat']);
    });

    it('status repeated: any of the values (OR)', async () => {
      await expectRuns(
        [
          ['status', 'failed'],
          ['status', 'running'],
        ],
        ['jens', 'kode', 'bo', 'frode', 'aero', 'rerun', 'softfail'],
      );
    });

    it('run_status (the original’s name): alone, repeated, and combined with status (values add up)', async () => {
      await expectRuns([['run_status', 'cancelled']], ['rabat']);
      await expectRuns(
        [
          ['run_status', 'pending'],
          ['run_status', 'completed'],
        ],
        ['anne', 'dorte', 'elin', 'maria', 'kodex', 'carla'],
      );
      await expectRuns(
        [
          ['status', 'failed'],
          ['run_status', 'cancelled'],
        ],
        ['jens', 'kode', 'bo', 'frode', 'rabat'],
      );
      await expectRuns(
        [
          ['status', 'cancelled'],
          ['run_status', 'cancelled'],
        ],
        ['rabat'],
      );
    });

    it('status outside the enum is refused with 422', async () => {
      await expectProblem(await get([['status', 'done']]), [422]);
      await expectProblem(await get([['run_status', 'FAILED']]), [422]);
    });

    it('failed_at: runs whose current step run of that step is failed', async () => {
      await expectRuns([['failed_at', stepIds.S2]], ['jens']);
      await expectRuns([['failed_at', stepIds.T1]], ['bo', 'frode']);
    });

    it('failed_at: a failed attempt that was rerun, or a soft-deleted failed step run, does not count', async () => {
      // rerun and softfail both hold a failed S1 step run; only kode's failed S1 is current.
      await expectRuns([['failed_at', stepIds.S1]], ['kode']);
    });

    it('failed_at: a step nobody failed at, or an unknown step, finds nothing', async () => {
      await expectRuns([['failed_at', 2147483647]], []);
      await expectRuns(
        [
          ['failed_at', stepIds.S2],
          ['process_id', processIds.P2],
        ],
        [],
      );
    });

    it('created_after and created_before: inclusive bounds', async () => {
      await expectRuns(
        [['created_after', '2026-01-04T12:00:00Z']],
        ['anne', 'rabat', 'kode', 'kodex', 'rerun', 'softfail', 'carla', 'elin', 'frode'],
      );
      await expectRuns([['created_before', '2026-01-02T08:00:00Z']], ['jens', 'maria', 'bo']);
      await expectRuns(
        [
          ['created_after', '2026-01-02T08:00:00.000Z'],
          ['created_before', '2026-01-04T12:00:00.000Z'],
        ],
        ['maria', 'dorte', 'aero', 'anne', 'rabat'],
      );
      await expectRuns(
        [
          ['created_after', '2026-01-04T12:00:00.001Z'],
          ['created_before', '2026-01-05T09:59:59.999Z'],
        ],
        ['kode'],
      );
    });

    it('created_after: a value without offset is UTC; an offset is honoured', async () => {
      const fromRerun = ['rerun', 'softfail', 'carla', 'elin', 'frode'] as const;
      await expectRuns([['created_after', '2026-01-06T08:00:00']], fromRerun);
      await expectRuns([['created_after', '2026-01-06T08:00:00.000000']], fromRerun);
      await expectRuns([['created_after', '2026-01-06T08:00:00Z']], fromRerun);
      await expectRuns([['created_after', '2026-01-06T09:00:00+01:00']], fromRerun);
      await expectRuns([['created_after', '2026-01-06T03:00:00-0500']], fromRerun);
      await expectRuns(
        [['created_after', '2026-01-06T08:00:00.001']],
        ['softfail', 'carla', 'elin', 'frode'],
      );
      await expectRuns([['created_before', '2026-01-01T08:00:00']], ['jens', 'bo']);
    });

    it('created_after and created_before: a plain date is that day’s midnight UTC, inclusive', async () => {
      // aero was created at exactly 2026-01-03T00:00:00.000Z.
      await expectRuns(
        [['created_after', '2026-01-03']],
        ['aero', 'anne', 'rabat', 'kode', 'kodex', 'rerun', 'softfail', 'carla', 'elin', 'frode'],
      );
      await expectRuns([['created_before', '2026-01-03']], ['jens', 'maria', 'dorte', 'bo', 'aero']);
      await expectRuns(
        [
          ['created_after', '2026-01-03'],
          ['created_before', '2026-01-03'],
        ],
        ['aero'],
      );
    });

    it('started_after and started_before: inclusive to the millisecond; never-started runs are out', async () => {
      await expectRuns(
        [['started_after', '2026-01-02T08:00:05.123Z']],
        ['maria', 'aero', 'rabat', 'kode', 'kodex', 'rerun', 'softfail', 'carla', 'frode'],
      );
      await expectRuns([['started_before', '2026-01-02T08:00:05.122Z']], ['jens', 'bo']);
      await expectRuns([['started_before', '2026-01-02T08:00:05.123Z']], ['jens', 'bo', 'maria']);
      await expectRuns(
        [
          ['started_after', '2026-01-02T08:00:05.123'],
          ['started_before', '2026-01-03T00:00:01'],
        ],
        ['maria', 'aero'],
      );
      await expectRuns([['started_after', '2026-01-09']], []);
    });

    it('finished_after and finished_before: inclusive; unfinished runs are out', async () => {
      await expectRuns([['finished_after', '2026-01-05T10:30:00Z']], ['kodex', 'carla', 'frode']);
      await expectRuns([['finished_before', '2026-01-01T08:10:00Z']], ['jens', 'bo']);
      await expectRuns(
        [
          ['finished_after', '2026-01-02'],
          ['finished_before', '2026-01-05'],
        ],
        ['maria', 'rabat'],
      );
      await expectRuns([['finished_before', '2025-12-30T08:00:59.999Z']], []);
    });

    it('date filters refuse values that are not dates with 400 or 422', async () => {
      for (const [name, value] of [
        ['created_after', 'yesterday'],
        ['started_before', '2026-02-30'],
        ['finished_after', '2026-01-05T24:00:00Z'],
      ]) {
        await expectProblem(await get([[name, value]]), [400, 422]);
      }
    });
  });

  describe('meta_filter', () => {
    it('one field:value matches runs whose meta field equals the value', async () => {
      await expectRuns([['meta_filter', 'kommune:Aarhus']], ['jens', 'aero', 'rerun', 'bo']);
      await expectRuns([['meta_filter', 'department:Sales']], ['jens', 'maria', 'bo']);
      await expectRuns([['meta_filter', 'kommune:Aarh']], []);
    });

    it('the same field repeated is an OR', async () => {
      await expectRuns(
        [
          ['meta_filter', 'kommune:Aarhus'],
          ['meta_filter', 'kommune:Odense'],
        ],
        ['jens', 'aero', 'rerun', 'bo', 'maria', 'carla'],
      );
      await expectRuns(
        [
          ['meta_filter', 'kommune:Aarhus'],
          ['meta_filter', 'kommune:Aarhus'],
        ],
        ['jens', 'aero', 'rerun', 'bo'],
      );
    });

    it('different fields are an AND (and each field’s values still an OR)', async () => {
      await expectRuns(
        [
          ['meta_filter', 'kommune:Aarhus'],
          ['meta_filter', 'department:Sales'],
        ],
        ['jens', 'bo'],
      );
      await expectRuns(
        [
          ['meta_filter', 'kommune:Aarhus'],
          ['meta_filter', 'department:Sales'],
          ['meta_filter', 'kommune:Odense'],
        ],
        ['jens', 'maria', 'bo'],
      );
      await expectRuns(
        [
          ['meta_filter', 'kommune:Vejle'],
          ['meta_filter', 'department:Sales'],
        ],
        [],
      );
    });

    it('the value may contain "," and ":" (split on the first ":" only)', async () => {
      await expectRuns([['meta_filter', 'company:Acme, Inc']], ['anne']);
      await expectRuns([['meta_filter', 'company:Acme']], ['rabat']);
      await expectRuns([['meta_filter', 'url:https://x/y']], ['anne']);
      await expectRuns([['meta_filter', 'url:https://x/y/z']], ['kode']);
      await expectRuns(
        [
          ['meta_filter', 'company:Acme, Inc'],
          ['meta_filter', 'url:https://x/y'],
        ],
        ['anne'],
      );
    });

    it('Unicode values and field names: Danish letters and emoji', async () => {
      await expectRuns([['meta_filter', 'by:Aarhus Ø']], ['aero']);
      await expectRuns([['meta_filter', 'område:Østjylland']], ['aero']);
      await expectRuns([['meta_filter', 'mood:glad 😀']], ['rabat']);
      await expectRuns([['meta_filter', 'emoji:🤖']], ['dorte']);
      await expectRuns([['meta_filter', 'by:Aarhus']], []);
    });

    it('numbers and booleans are compared as their JSON text', async () => {
      // jens has the number 5, aero the string "5".
      await expectRuns([['meta_filter', 'n:5']], ['jens', 'aero']);
      await expectRuns([['meta_filter', 'n:10']], ['maria']);
      await expectRuns([['meta_filter', 'flag:true']], ['jens']);
      await expectRuns([['meta_filter', 'flag:false']], ['maria']);
      await expectRuns([['meta_filter', 'flag:1']], []);
      await expectRuns([['meta_filter', 'flag:0']], []);
      await expectRuns([['meta_filter', 'n:5.0']], []);
    });

    it('a field no run has, or an empty value, matches nothing', async () => {
      await expectRuns([['meta_filter', 'ukendt:x']], []);
      await expectRuns([['meta_filter', 'by:']], []);
      await expectRuns(
        [
          ['meta_filter', 'kommune:Aarhus'],
          ['meta_filter', 'ukendt:x'],
        ],
        [],
      );
    });
  });

  describe('filters combined (AND)', () => {
    it('process, statuses, meta and a date bound together', async () => {
      await expectRuns(
        [
          ['process_id', processIds.P1],
          ['status', 'failed'],
          ['status', 'running'],
          ['meta_filter', 'kommune:Aarhus'],
          ['created_after', '2026-01-02'],
        ],
        ['aero', 'rerun'],
      );
    });

    it('entity name, status and finish time together', async () => {
      await expectRuns(
        [
          ['entity_name', 'hansen'],
          ['status', 'completed'],
          ['finished_before', '2026-01-02T09:00:00Z'],
        ],
        ['maria'],
      );
      await expectRuns(
        [
          ['entity_name', 'hansen'],
          ['run_status', 'completed'],
          ['finished_before', '2026-01-02T08:59:59.999Z'],
        ],
        [],
      );
    });

    it('failed_at with meta_filter, entity_id and process_id', async () => {
      await expectRuns(
        [
          ['failed_at', stepIds.S1],
          ['meta_filter', 'url:https://x/y/z'],
        ],
        ['kode'],
      );
      await expectRuns(
        [
          ['failed_at', stepIds.S1],
          ['meta_filter', 'url:https://x/y'],
        ],
        [],
      );
      await expectRuns(
        [
          ['entity_id', '0101901234'],
          ['status', 'failed'],
          ['process_id', processIds.P1],
        ],
        ['jens'],
      );
    });

    it('filters, order and page together', async () => {
      const query: Query = [
        ['status', 'failed'],
        ['status', 'running'],
        ['order_by', 'started_at'],
        ['sort_direction', 'asc'],
        ['size', 3],
        ['page', 2],
      ];
      const response = await get(query);
      expect(response.status).toBe(200);
      const body = (await response.json()) as PageBody;
      // failed or running by start: bo, jens, aero, | kode, rerun, softfail, | frode
      expect(labelsOf(body)).toEqual(['kode', 'rerun', 'softfail']);
      expect(body).toMatchObject({ total: 7, page: 2, size: 3, pages: 3 });
      expectPageHeaders(response, { page: 2, size: 3, total: 7 });
    });
  });

  describe('order_by and sort_direction', () => {
    const cases = ORDER_COLUMNS.filter((column) => column !== 'entity_name').flatMap((column) =>
      (['asc', 'desc'] as const).map((direction) => [column, direction] as const),
    );
    it.each(cases)(
      'order_by=%s&sort_direction=%s sorts every run, id breaking ties',
      async (column, direction) => {
        const body = await page([
          ['order_by', column],
          ['sort_direction', direction],
        ]);
        expect(labelsOf(body)).toEqual(sorted(LABELS, column, direction));
      },
    );

    it('created_at ties are broken by id in the sort direction', async () => {
      // anne and rabat were created at the same instant; anne has the lower id.
      const asc = labelsOf(
        await page([
          ['order_by', 'created_at'],
          ['sort_direction', 'asc'],
          ['created_after', '2026-01-04T12:00:00Z'],
          ['created_before', '2026-01-04T12:00:00Z'],
        ]),
      );
      expect(asc).toEqual(['anne', 'rabat']);
      const desc = labelsOf(await page([['created_after', '2026-01-04T12:00:00Z']]));
      expect(desc.slice(-2)).toEqual(['rabat', 'anne']);
    });

    it('started_at and finished_at put runs without a value last in both directions', async () => {
      const startedAsc = labelsOf(
        await page([
          ['order_by', 'started_at'],
          ['sort_direction', 'asc'],
        ]),
      );
      const startedDesc = labelsOf(
        await page([
          ['order_by', 'started_at'],
          ['sort_direction', 'desc'],
        ]),
      );
      expect(startedAsc.slice(0, 2)).toEqual(['bo', 'jens']);
      expect(startedAsc.slice(-3)).toEqual(['anne', 'dorte', 'elin']);
      expect(startedDesc.slice(0, 2)).toEqual(['carla', 'frode']);
      expect(startedDesc.slice(-3)).toEqual(['elin', 'dorte', 'anne']);
      const finishedDesc = labelsOf(
        await page([
          ['order_by', 'finished_at'],
          ['sort_direction', 'desc'],
        ]),
      );
      expect(finishedDesc).toEqual([
        'carla',
        'frode',
        'kodex',
        'kode',
        'rabat',
        'maria',
        'jens',
        'bo',
        'elin',
        'dorte',
        'softfail',
        'rerun',
        'anne',
        'aero',
      ]);
    });

    it.each(['asc', 'desc'] as const)(
      'order_by=entity_name&sort_direction=%s sorts by name, runs without a name last, id breaking ties',
      async (direction) => {
        // The runs of P2: names whose order is the same in every collation, and two without a name.
        const body = await page([
          ['process_id', processIds.P2],
          ['order_by', 'entity_name'],
          ['sort_direction', direction],
        ]);
        expect(labelsOf(body)).toEqual(
          direction === 'asc'
            ? ['elin', 'bo', 'carla', 'dorte', 'frode']
            : ['carla', 'bo', 'elin', 'frode', 'dorte'],
        );
        expect(labelsOf(body)).toEqual(
          sorted(['bo', 'carla', 'dorte', 'elin', 'frode'], 'entity_name', direction),
        );
      },
    );

    it.each(['asc', 'desc'] as const)(
      'order_by=meta.n&sort_direction=%s sorts by the field as text, runs without it last, id breaking ties',
      async (direction) => {
        const body = await page([
          ['order_by', 'meta.n'],
          ['sort_direction', direction],
        ]);
        // maria 10, rabat 2, jens 5 (number), aero "5" (string): as text "10" < "2" < "5".
        const withN =
          direction === 'asc' ? ['maria', 'rabat', 'jens', 'aero'] : ['aero', 'jens', 'rabat', 'maria'];
        const withoutN = [
          'anne',
          'kode',
          'kodex',
          'rerun',
          'softfail',
          'bo',
          'carla',
          'dorte',
          'elin',
          'frode',
        ];
        expect(labelsOf(body)).toEqual([...withN, ...(direction === 'asc' ? withoutN : withoutN.reverse())]);
      },
    );

    it.each(['asc', 'desc'] as const)(
      'order_by=meta.<field> sorts booleans as text and takes Danish field names (%s)',
      async (direction) => {
        const flag = labelsOf(
          await page([
            ['order_by', 'meta.flag'],
            ['sort_direction', direction],
          ]),
        );
        expect(flag).toEqual(sorted(LABELS, 'meta.flag', direction));
        expect(flag.slice(0, 2)).toEqual(direction === 'asc' ? ['maria', 'jens'] : ['jens', 'maria']);
        const omraade = labelsOf(
          await page([
            ['order_by', 'meta.område'],
            ['sort_direction', direction],
          ]),
        );
        expect(omraade).toEqual(sorted(LABELS, 'meta.område', direction));
        expect(omraade[0]).toBe('aero');
      },
    );

    it('order_by alone sorts descending; sort_direction alone sorts by created_at', async () => {
      expect(labelsOf(await page([['order_by', 'id']]))).toEqual([...LABELS].reverse());
      expect(labelsOf(await page([['sort_direction', 'asc']]))).toEqual(sorted(LABELS, 'created_at', 'asc'));
      expect(labelsOf(await page([['sort_direction', 'desc']]))).toEqual(byDefault(LABELS));
    });

    it('order_by=meta.<field> that no run has keeps id order', async () => {
      expect(
        labelsOf(
          await page([
            ['order_by', 'meta.ukendt'],
            ['sort_direction', 'asc'],
          ]),
        ),
      ).toEqual([...LABELS]);
    });
  });

  describe('pagination', () => {
    it('pages through every run with size, the last page partial', async () => {
      const seen: string[] = [];
      for (const [number, count] of [
        [1, 5],
        [2, 5],
        [3, 4],
      ] as const) {
        const response = await get([
          ['page', number],
          ['size', 5],
        ]);
        expect(response.status).toBe(200);
        const body = (await response.json()) as PageBody;
        expect(body).toMatchObject({ total: 14, page: number, size: 5, pages: 3 });
        expect(body.items).toHaveLength(count);
        expectPageHeaders(response, { page: number, size: 5, total: 14 });
        seen.push(...labelsOf(body));
      }
      expect(seen).toEqual(byDefault(LABELS));
    });

    it('a page past the end is empty and keeps the total', async () => {
      const response = await get([
        ['page', 4],
        ['size', 5],
      ]);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ items: [], total: 14, page: 4, size: 5, pages: 3 });
      const link = expectPageHeaders(response, { page: 4, size: 5, total: 14 });
      expect(link).toContain('page=3&size=5>; rel="prev"');
      expect(link).not.toContain('rel="next"');
    });

    it('no match: an empty page with zero pages', async () => {
      const response = await get([['entity_id', 'findes-ikke']]);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ items: [], total: 0, page: 1, size: 50, pages: 0 });
      expectPageHeaders(response, { page: 1, size: 50, total: 0 });
    });

    it('takes size=100 and refuses size=101, size=0 and page=0 with 422', async () => {
      const hundred = await get([['size', 100]]);
      expect(hundred.status).toBe(200);
      expect(await hundred.json()).toMatchObject({ total: 14, page: 1, size: 100, pages: 1 });
      for (const [name, value] of [
        ['size', 101],
        ['size', 0],
        ['page', 0],
        ['page', -1],
        ['page', 'x'],
      ] as const) {
        const problem = await expectProblem(await get([[name, value]]), [422]);
        expect(problem.errors?.map((error) => error.field).join(' ')).toContain(name);
      }
    });

    it('the Link header keeps every other query parameter, repeated ones included, and its links work', async () => {
      const query: Query = [
        ['meta_filter', 'kommune:Aarhus'],
        ['meta_filter', 'kommune:Odense'],
        ['status', 'failed'],
        ['status', 'running'],
        ['order_by', 'id'],
        ['sort_direction', 'asc'],
        ['page', 2],
        ['size', 1],
      ];
      const response = await get(query);
      expect(response.status).toBe(200);
      const body = (await response.json()) as PageBody;
      // kommune Aarhus or Odense, failed or running, by id: jens, aero, rerun, bo.
      expect(labelsOf(body)).toEqual(['aero']);
      expect(body).toMatchObject({ total: 4, page: 2, size: 1, pages: 4 });
      const header = expectPageHeaders(response, { page: 2, size: 1, total: 4 });
      const links = Object.fromEntries(
        [...header.matchAll(/<([^>]+)>; rel="(\w+)"/g)].map((match) => [match[2], new URL(match[1])]),
      );
      expect(Object.keys(links).sort()).toEqual(['first', 'last', 'next', 'prev']);
      const expectedPages = { first: 1, last: 4, prev: 1, next: 3 } as const;
      const walked: Record<string, string[]> = {};
      for (const [rel, url] of Object.entries(links)) {
        expect(url.searchParams.getAll('meta_filter'), rel).toEqual(['kommune:Aarhus', 'kommune:Odense']);
        expect(url.searchParams.getAll('status'), rel).toEqual(['failed', 'running']);
        expect(url.searchParams.get('order_by'), rel).toBe('id');
        expect(url.searchParams.get('sort_direction'), rel).toBe('asc');
        expect(url.searchParams.getAll('page'), rel).toEqual([
          String(expectedPages[rel as keyof typeof expectedPages]),
        ]);
        expect(url.searchParams.getAll('size'), rel).toEqual(['1']);
        expect(url.pathname).toBe('/api/v1/runs');
        const followed = await server.request(url.pathname + url.search);
        expect(followed.status).toBe(200);
        walked[rel] = labelsOf((await followed.json()) as PageBody);
      }
      expect(walked).toEqual({ first: ['jens'], prev: ['jens'], next: ['rerun'], last: ['bo'] });
    });

    it('the Link header keeps meta_filter values with ":", "," and spaces intact', async () => {
      const response = await get([
        ['meta_filter', 'company:Acme, Inc'],
        ['meta_filter', 'url:https://x/y'],
        ['entity_name', 'anne jensen'],
      ]);
      expect(response.status).toBe(200);
      expect(labelsOf((await response.json()) as PageBody)).toEqual(['anne']);
      const header = expectPageHeaders(response, { page: 1, size: 50, total: 1 });
      for (const match of header.matchAll(/<([^>]+)>; rel="(\w+)"/g)) {
        const url = new URL(match[1]);
        expect(url.searchParams.getAll('meta_filter')).toEqual(['company:Acme, Inc', 'url:https://x/y']);
        expect(url.searchParams.get('entity_name')).toBe('anne jensen');
      }
    });
  });

  describe('errors (RFC 9457 problems)', () => {
    it('meta_filter without ":" answers 400', async () => {
      const problem = await expectProblem(await get([['meta_filter', 'kommune']]), [400]);
      expect(problem.error_type).toBe('bad_request');
      expect(problem.detail).toContain('meta_filter');
    });

    it('meta_filter with an empty field answers 400', async () => {
      const problem = await expectProblem(await get([['meta_filter', ':x']]), [400]);
      expect(problem.detail).toContain('meta_filter');
    });

    it('meta_filter with an invalid field name answers 400', async () => {
      for (const filter of ['kom mune:x', 'a.b:x', 'meta->>x:y', '"x":y']) {
        const problem = await expectProblem(await get([['meta_filter', filter]]), [400]);
        expect(problem.error_type, filter).toBe('bad_request');
      }
      // One bad filter among good ones still fails the request.
      await expectProblem(
        await get([
          ['meta_filter', 'kommune:Aarhus'],
          ['meta_filter', 'nocolon'],
        ]),
        [400],
      );
    });

    it('order_by naming an unknown column answers 400', async () => {
      for (const orderBy of ['name', 'deleted_at', 'meta', 'password']) {
        const problem = await expectProblem(await get([['order_by', orderBy]]), [400]);
        expect(problem.error_type, orderBy).toBe('bad_request');
        expect(problem.detail, orderBy).toContain('order_by');
      }
    });

    it('order_by outside the allowed pattern answers 422', async () => {
      for (const orderBy of ['meta.a.b', 'created_at desc', 'meta.']) {
        await expectProblem(await get([['order_by', orderBy]]), [422]);
      }
    });

    it('sort_direction other than asc or desc answers 422', async () => {
      const problem = await expectProblem(await get([['sort_direction', 'sideways']]), [422]);
      expect(problem.errors?.map((error) => error.field).join(' ')).toContain('sort_direction');
    });

    it('SQL injection attempts are refused as problems and the runs table still answers', async () => {
      const filter = await get([['meta_filter', "x') OR 1=1 --:a"]]);
      await expectProblem(filter, [400, 422]);
      const order = await get([['order_by', 'meta.x]; DROP TABLE x--']]);
      await expectProblem(order, [400, 422]);
      const orderColumn = await get([['order_by', 'id; DROP TABLE process_runs--']]);
      await expectProblem(orderColumn, [400, 422]);

      const after = await get([['size', 100]]);
      expect(after.status).toBe(200);
      const body = (await after.json()) as PageBody;
      expect(body.total).toBe(14);
      expect(labelsOf(body)).toEqual(byDefault(LABELS));
    });

    it('injection text in values is only ever a value: it matches nothing', async () => {
      await expectRuns([['meta_filter', "kommune:x' OR '1'='1"]], []);
      await expectRuns([['meta_filter', 'kommune:Aarhus") OR 1=1 --']], []);
      await expectRuns([['entity_name', "' OR 1=1 --"]], []);
      await expectRuns([['entity_id', "0101901234' OR '1'='1"]], []);
      expect((await page([])).total).toBe(14);
    });
  });

  describe('raw query strings as clients write them', () => {
    const raw = async (query: string) => {
      const response = await rawRequest(server.baseUrl, {
        target: `/api/v1/runs?${query}`,
        headers: { 'X-API-Key': server.adminKey },
      });
      expect(response.status, `${query}: ${response.text}`).toBe(200);
      return { body: JSON.parse(response.text) as PageBody, link: String(response.headers['link']) };
    };

    it('"+" is a space (entity_name=Jens+Hansen)', async () => {
      expect(labelsOf((await raw('entity_name=Jens+Hansen')).body)).toEqual(['jens']);
      expect(labelsOf((await raw('entity_name=ria+h')).body)).toEqual(['maria']);
    });

    it('":" unencoded in meta_filter (meta_filter=department:Sales)', async () => {
      expect(labelsOf((await raw('meta_filter=department:Sales')).body)).toEqual(
        byDefault(['jens', 'maria', 'bo']),
      );
    });

    it('"@", "/", "," unencoded in meta_filter values', async () => {
      expect(labelsOf((await raw('meta_filter=email:jens@aarhus.dk')).body)).toEqual(['jens']);
      expect(labelsOf((await raw('meta_filter=url:https://x/y')).body)).toEqual(['anne']);
      expect(labelsOf((await raw('meta_filter=company:Acme,+Inc')).body)).toEqual(['anne']);
      expect(labelsOf((await raw('meta_filter=company:Acme,%20Inc.')).body)).toEqual(['kode']);
    });

    it('repeated parameters unencoded (meta_filter=kommune:Aarhus&meta_filter=kommune:Odense&status=failed)', async () => {
      expect(
        labelsOf(
          (await raw('meta_filter=kommune:Aarhus&meta_filter=kommune:Odense&status=failed&status=completed'))
            .body,
        ),
      ).toEqual(byDefault(['jens', 'bo', 'maria', 'carla']));
    });

    it('percent-encoded UTF-8 (entity_name=%C3%A6r%C3%B8, meta_filter=by:Aarhus%20%C3%98)', async () => {
      expect(labelsOf((await raw('entity_name=%C3%A6r%C3%B8')).body)).toEqual(['aero']);
      expect(labelsOf((await raw('meta_filter=by:Aarhus+%C3%98')).body)).toEqual(['aero']);
      expect(labelsOf((await raw('meta_filter=emoji%3A%F0%9F%A4%96')).body)).toEqual(['dorte']);
      expect(labelsOf((await raw('entity_name=100%25')).body)).toEqual(['rabat']);
    });

    it('unknown parameters are ignored and kept in the Link header (include_deleted=false)', async () => {
      const { body, link } = await raw('include_deleted=false');
      expect(labelsOf(body)).toEqual(byDefault(LABELS));
      expect(body.total).toBe(14);
      expect(link).toContain('include_deleted=false');
      const filtered = await raw('include_deleted=false&status=pending&foo=bar');
      expect(labelsOf(filtered.body)).toEqual(byDefault(['anne', 'dorte', 'elin']));
    });

    it('raw offset-less and offset timestamps (created_after=2026-01-06T08:00:00, ...%2B01:00)', async () => {
      const expected = byDefault(['rerun', 'softfail', 'carla', 'elin', 'frode']);
      expect(labelsOf((await raw('created_after=2026-01-06T08:00:00')).body)).toEqual(expected);
      expect(labelsOf((await raw('created_after=2026-01-06T09:00:00%2B01:00')).body)).toEqual(expected);
      expect(labelsOf((await raw('created_after=2026-01-06T08:00:00Z')).body)).toEqual(expected);
    });
  });
});
